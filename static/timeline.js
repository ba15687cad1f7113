// The booking form's day timeline follows the date chosen: the server renders that day
// (the same partial as the page's first one) and it replaces the one shown. Without
// JavaScript the page shows the day it was opened with.
"use strict";
const dateField = document.getElementById("date");
let latest = 0;
async function showDay() {
  const shown = document.getElementById("day-timeline");
  if (!shown || !dateField.value) return;
  const asked = ++latest;
  const url = `${shown.dataset.url}&date=${encodeURIComponent(dateField.value)}`;
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok || asked !== latest) return;  // a later date was chosen meanwhile
  const holder = document.createElement("template");
  holder.innerHTML = await response.text();
  const fresh = holder.content.querySelector("#day-timeline");
  if (fresh) document.getElementById("day-timeline").replaceWith(fresh);
}
if (dateField) dateField.addEventListener("change", showDay);
