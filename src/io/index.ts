/** tg.io — see the files in this folder. */
export {};
