/** keepalived.conf support: the parser and the importer to keepcache's native config. */
export { type ImportResult, importKeepalived, type Unmapped } from "./import.js";
export { type IncludeReader, parseKeepalived, type Stmt, tokenizeLine } from "./parse.js";
