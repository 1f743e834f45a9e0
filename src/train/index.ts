/** tg.train — what every training loop shares: exact-resume checkpoints and clean interruption. */
export {
  saveTrainingState,
  loadTrainingState,
  type TrainingState,
  type Position,
  type Stateful,
} from "./state.js";
export { Interrupt, type SignalName } from "./interrupt.js";
