export { celTypeFits, celTypeOf } from "./cel-types.js";
export { compileExpression, type CompiledExpression } from "./compile-expression.js";
export { GRANARY_CEL_FUNCTION_NAMES, GRANARY_CEL_FUNCTIONS } from "./functions.js";
export { fromCel, toCel, type PlainValue } from "./cel-values.js";
