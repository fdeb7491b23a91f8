// How long the server may take to close after SIGTERM (and after --shutdown-delay) before it
// gives up and exits 1. Its own module, free of side effects, so deploy's test can check the
// pod's terminationGracePeriodSeconds leaves room for it.
export const CLOSE_TIMEOUT_MS = 20_000;
