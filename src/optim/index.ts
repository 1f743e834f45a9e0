/** tg.optim — see the files in this folder. */
export {};
