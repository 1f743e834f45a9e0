/** tg.text — see the files in this folder. */
export {};
