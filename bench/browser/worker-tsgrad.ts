/** tsgrad in the browser bench: the package's browser entry, as a bundler gives it to a page. */
import * as tg from "../../src/browser.js";
import { tsgradPeer } from "../peers/tsgrad-common.js";
import { serve } from "./worker.js";

serve(() => Promise.resolve(tsgradPeer(tg)));
