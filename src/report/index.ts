/** tg.report — see the files in this folder. */
export {};
