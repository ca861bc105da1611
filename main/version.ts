// Ferry's version, as app:info and `ferry --version` report it.
export const VERSION = '0.1.0';
