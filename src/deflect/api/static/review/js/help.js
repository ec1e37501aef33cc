/** The keyboard shortcuts dialog. */
import { $, h, replace } from "./dom.js";
import { t } from "./i18n.js";

const SHORTCUTS = [
  ["j / k", "help.jk"],
  ["Enter", "help.enter"],
  ["x", "help.x"],
  ["c", "help.c"],
  ["y", "help.y"],
  ["o", "help.o"],
  ["e", "help.e"],
  ["n", "help.n"],
  ["a", "help.a"],
  ["Esc", "help.esc"],
  ["g q", "help.gq"],
  ["g a", "help.ga"],
  ["g u", "help.gu"],
  ["/", "help.slash"],
  ["?", "help.help"],
];

export function fillHelp() {
  replace(
    $("help-list"),
    SHORTCUTS.map(([keys, text]) =>
      h(
        "div",
        { className: "shortcut" },
        h("dt", {}, keys.split(" ").map((key, index) => [index ? " " : null, key === "/" && keys !== "/" ? "/" : h("kbd", {}, key)])),
        h("dd", {}, t(text)),
      ),
    ),
  );
}

export function openHelp() {
  $("help").showModal();
  return true;
}
