// A "copy" button beside each read-only field marked data-copy (its label, translated by
// the page; data-copied says it worked). Without JavaScript the field is still there to
// select and copy by hand, so the button is only added here.
"use strict";
document.querySelectorAll("input[data-copy]").forEach((input) => {
  const button = document.createElement("button");
  const label = input.dataset.copy;
  button.type = "button";
  button.className = "secondary";
  button.textContent = label;
  button.setAttribute("aria-label", `${label}: ${input.labels[0]?.textContent ?? ""}`);
  button.addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      document.execCommand("copy");
    }
    button.textContent = input.dataset.copied;
    setTimeout(() => { button.textContent = label; }, 2000);
  });
  input.after(button);
});
