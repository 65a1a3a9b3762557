/** Action state: the file listing check runs still open, written by the main step, read by the post step. */
export const OPEN_CHECKS_STATE = "open-checks-file";
