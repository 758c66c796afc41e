"""The generation guard: screen a generative model's prompts and outputs against the
registry before they are shown or published (:mod:`kyodaku.guard.screen`)."""
