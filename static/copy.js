// A "copy" button beside each read-only field marked data-copy (its label, translated by
// the page; data-copied says it worked). Without JavaScript the field is still there to
// select and copy by hand, so the button is only added here.
"use strict";
document.querySelectorAll("input[data-copy]").forEach((input) => {
  const button = document.createElement("button");
  const shown = document.createElement("span");
  const context = document.createElement("span");
  button.type = "button";
  button.className = "secondary";
  shown.textContent = input.dataset.copy;
  // Said by screen readers only: which address the button copies.
  context.className = "visually-hidden";
  context.textContent = ` ${input.labels[0]?.textContent ?? ""}`;
  button.append(shown, context);
  button.addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      document.execCommand("copy");
    }
    shown.textContent = input.dataset.copied;
    setTimeout(() => { shown.textContent = input.dataset.copy; }, 2000);
  });
  input.after(button);
});
