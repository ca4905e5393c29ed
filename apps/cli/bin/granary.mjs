#!/usr/bin/env node
// The CLI is TypeScript run through tsx; the import is relative to this file, so any cwd works.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
