#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';
main(process.argv).catch((err) => {
  console.error(`skiff: ${err?.message ?? err}`);
  process.exit(1);
});
