// celltrial pages: open the modal dialogs htmx brings in (e-signature), close them on request.
"use strict";
document.addEventListener("htmx:afterSettle", () => {
  for (const dialog of document.querySelectorAll("dialog[data-modal]:not([open])")) {
    dialog.showModal();
  }
});
document.addEventListener("click", (event) => {
  const closer = event.target.closest("[data-close-dialog]");
  if (closer) {
    const dialog = closer.closest("dialog");
    if (dialog) {
      dialog.close();
      dialog.remove();
    }
  }
});
