import pkg from '../../package.json';

/** The app's version, written into every results file the worker makes. */
export const TOOL_VERSION: string = (pkg as { version: string }).version;
