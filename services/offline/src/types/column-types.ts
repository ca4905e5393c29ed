export { arrowTypeOf, duckTypeSql } from "@granary/arrow";
