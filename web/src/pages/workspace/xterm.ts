// xterm.js and its fit addon behind one ES module, which the terminal page loads with import():
// the packages are CommonJS, and a static import here gets their named exports right (a
// dynamic import of a CommonJS package from a split bundle would only see `default`).
export { Terminal } from "@xterm/xterm";
export { FitAddon } from "@xterm/addon-fit";
