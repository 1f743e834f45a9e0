/** tsgrad in a Node child: the Node entry (native addon, wasm and JS backends registered). */
import * as tg from "../../src/index.js";
import { tsgradPeer } from "./tsgrad-common.js";

export const peer = tsgradPeer(tg);
