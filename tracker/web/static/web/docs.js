"use strict";
// Accessibility fixes for the markup Swagger UI renders, which this page does not write. Swagger UI
// renders asynchronously and again on every expand, hence the observer; each fix is idempotent.
(() => {
  const root = document.getElementById("swagger-ui");
  const fix = () => {
    // Its title is an h1 and its groups start at h3: every lower heading is announced a level up.
    for (const heading of root.querySelectorAll("h3, h4, h5, h6")) {
      if (!heading.hasAttribute("aria-level")) {
        heading.setAttribute("aria-level", String(Number(heading.tagName[1]) - 1));
      }
    }
    // The title and description sit outside any landmark; Swagger UI's own <main> holds the rest.
    const info = root.querySelector(".information-container:not([role])");
    if (info) info.setAttribute("role", "banner");
    // Examples scroll sideways: reachable by keyboard.
    for (const pre of root.querySelectorAll("pre:not([tabindex])")) pre.setAttribute("tabindex", "0");
    // The request body editor has no label of its own.
    for (const box of root.querySelectorAll("textarea.body-param__text:not([aria-label])")) {
      box.setAttribute("aria-label", "Request body");
    }
  };
  new MutationObserver(fix).observe(root, { childList: true, subtree: true });
  fix();
})();
