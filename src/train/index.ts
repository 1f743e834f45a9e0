/** tg.train — what every training loop shares: exact-resume checkpoints and clean interruption. */
export {
  saveTrainingState,
  loadTrainingState,
  type TrainingState,
  type Position,
  type Stateful,
} from "./state.ts";
export { Interrupt } from "./interrupt.ts";
