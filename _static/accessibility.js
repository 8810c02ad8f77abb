// Keyboard access to scrollable code and outputs (axe's scrollable-region-focusable; WCAG 2.1.1).
// pydata-sphinx-theme gives a <pre> or a cell output tabindex="0" when it scrolls and "-1" when it
// does not, but only at page load and on window resize. A block inside a collapsed solution or a
// hidden cell has no size at load, so it gets -1 and stays unreachable after the reader opens it.
// A ResizeObserver repeats the theme's rule whenever such a block changes size (shown, hidden,
// window resized). Jupyter Book 1 adds every script in _static/ to every page.
(() => {
  const selector = "pre, .cell_output > .output, .pst-scrollable-table-container";
  const update = (el) => {
    el.tabIndex = el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight ? 0 : -1;
  };
  const start = () => {
    const observer = new ResizeObserver((entries) => entries.forEach((entry) => update(entry.target)));
    document.querySelectorAll(selector).forEach((el) => observer.observe(el));
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
