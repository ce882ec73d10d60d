/* Enter in a box marked data-enter-button presses that button (the partner search box
   searches) instead of the form's default action. Without JavaScript the form's default
   (its first submit button) still applies. Loaded as a file: the CSP forbids inline scripts. */
document.addEventListener("keydown", function (event) {
  var box = event.target;
  if (event.key !== "Enter" || event.isComposing || !box.dataset || !box.dataset.enterButton) {
    return;
  }
  var button = document.getElementById(box.dataset.enterButton);
  if (button) {
    event.preventDefault();
    button.click();
  }
});
