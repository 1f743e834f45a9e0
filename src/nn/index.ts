/** tg.nn — modules, initialisers and losses (like torch.nn). */
export {};
