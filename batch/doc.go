// Package batch is crmbatch's pipeline: job kinds, validation, scheduling,
// retries, outcomes, reports and the summary. It holds formats (the job file),
// crm (the Web API) and ledger (what was done) together; none of them knows the
// others.
//
// # How a row travels
//
// Run reads top to bottom, one step a function:
//
//  1. openInput checks the file and opens it, once: every pass reads it
//     through that handle (pinnedFile: each block hashed as it is read, and
//     checked against its first read), so a file changed in place stops the
//     run before a row of the new content is sent (openPinnedJob: the header,
//     the kind, the required columns); a subscriptions job's promotion codes
//     are asked for once the whole file is known to be good.
//  2. validatePass is pass 1: job.scan reads every record and the kind's
//     rules validate it (Kind.rows.check: an Item, its unique values and the
//     hash of its effect, or a RowError that makes the row invalid; the typed
//     payload is kept only by the pass that sends); repeats of unique values are
//     invalid; each valid row gets its effect key (effects.key: what it does,
//     the same in an edit of the file), sampled into the file's fingerprint;
//     rowsDigest hashes the rows as read, the job's identity. Nothing is sent
//     if the file itself is broken.
//  3. identify names the job (jobKey: its rows as read, kind, sheet, column flags and
//     canonicalEndpoint), and openLedger locks it and calls begin: resume an
//     unfinished run of the same job, refuse one that ran to the end, continue
//     the lineage of an earlier run whose file this one is an edit of (the
//     fingerprints overlap) or whose failures report it is (retryOf), or start
//     a run of its own (keepUnfinished: never over the reports of an
//     unfinished run).
//  4. execute is pass 2: the rows are read again; history.prepare skips those
//     the lineage did and marks those that may have been applied; schedule
//     hands the rest out: planned into chunks of one call (planner, kept in
//     lane order by tickets) and run by runChunk, or, for a sequential kind,
//     one by one by rowScheduler, each row after its customer's earlier rows.
//  5. executor.send claims a charge's entity in the ledger (claimer), then
//     makes the call under an intent recorded before the first send
//     (executor.begin: rows, effect keys and the call's transaction reference
//     or state before); the kind's send function calls crm through
//     executor.retry, which decides after each attempt (decide: back off,
//     throttle, read back, stop) and paces every attempt through one pacer. A
//     call refused as a whole is split (isolate) to find its bad rows.
//  6. The kind maps the answer to one result per row (ok, failed, unknown;
//     matchFailures for failure sets), and recorder.record writes them to the
//     ledger; recorder.recorded hands them to the reports once they are in it
//     (a write that fails stops the run, and its rows are unknown).
//  7. finish is pass 3, beside pass 2: the file is read a last time and every
//     row is written to the results report (and the failures report when it
//     failed, was invalid or is unknown) with its outcome as it comes (from
//     the ledger for the rows a resumed run did before), or NOT_SENT; the
//     Summary's counts and control totals come from that pass, and
//     writeSummary puts X.summary.json in place.
//
// A job kind is one value (Kind): its columns, its chunk limit, whether its rows
// run one by one per customer, and its rules (spec[P], with P its payload type):
// how a row is read, what must not repeat, what it does, what is final across
// runs, and how a call is made and read back.
package batch
