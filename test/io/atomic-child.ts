/**
 * Child process for test/io/atomic.test.ts: rewrites one file with writeFileAtomic forever,
 * alternating two large contents, until the parent kills it. Prints "ready" after the first write.
 */
import { writeFileAtomic } from "../../src/io/atomic.js";

const [path, size] = [process.argv[2]!, Number(process.argv[3])];
const contents = [new Uint8Array(size).fill(0x61), new Uint8Array(size).fill(0x62)];
writeFileAtomic(path, contents[0]!);
process.stdout.write("ready\n");
for (let i = 1; ; i++) writeFileAtomic(path, contents[i % 2]!);
