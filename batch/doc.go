// Package batch is crmbatch's pipeline: Run takes a job file from its first
// read to its reports, and says at each step which room does the work. It
// holds the others together, none of which knows the rest: jobfile (the job
// file, read and validated), kind (the job kinds and their calls), lineage
// (the job among its runs in the ledger), pacer (the pace of every call),
// report (the reports and the summary), crm (the Web API) and ledger (what
// was done). Its own are the planning of calls, their sending and the
// recording of their outcomes.
//
// # How a row travels
//
// Run reads top to bottom, one step a function:
//
//  1. openInput checks the file and opens it, once: every pass reads it
//     through that handle (jobfile.Pinned: each block hashed as it is read,
//     and checked against its first read), so a file changed in place stops
//     the run before a row of the new content is sent (jobfile.OpenPinned:
//     the header, the kind, the required columns); a subscriptions job's
//     promotion codes are asked for once the whole file is known to be good.
//  2. validatePass is pass 1: jobfile.File.Scan reads every record and the
//     kind's rules validate it (kind.Kind.Check: an Item, its unique values
//     and the hash of its effect, or a RowError that makes the row invalid;
//     the typed payload is kept only by the pass that sends); repeats of
//     unique values are invalid; each valid row gets its effect key (what it
//     does, the same in an edit of the file), sampled into the file's
//     lineage.Fingerprint; lineage.RowsDigest hashes the rows as read, the
//     job's identity. Nothing is sent if the file itself is broken.
//  3. identify names the job (lineage.JobKey: its rows as read, kind, sheet,
//     column flags and endpoint), and openLedger locks it and calls
//     lineage.Place: resume an unfinished run of the same job, refuse one
//     that ran to the end, continue the lineage of an earlier run whose file
//     this one is an edit of or whose failures report it is, or start a run
//     of its own.
//  4. execute is pass 2: the rows are read again; lineage.History.Item
//     skips those the lineage did and marks those that may have been
//     applied; schedule hands the rest out: planned into chunks of one call
//     (planner, kept in lane order by tickets) and run by runChunk, or, for a
//     sequential kind, one by one by rowScheduler, each row after its
//     customer's earlier rows.
//  5. executor.send claims a charge's entity in the ledger (claimer), then
//     makes the kind's call (kind.Kind.Call) under an intent recorded before
//     the first send (executor.Begin: rows, effect keys and the call's
//     transaction reference or state before); the kind calls crm through
//     executor.Retry, which decides after each attempt (decide: back off,
//     throttle, read back, stop) and paces every attempt through one
//     pacer.Pacer. A call refused as a whole is split (isolate) to find its
//     bad rows.
//  6. The kind maps the answer to one result per row (ok, failed, unknown),
//     and recorder.record writes them to the ledger; recorder.recorded hands
//     them to the reports once they are in it (a write that fails stops the
//     run, and its rows are unknown).
//  7. finish is pass 3, beside pass 2: the file is read a last time and every
//     row is written by a report.Writer to the results report (and the
//     failures report when it failed, was invalid or is unknown) with its
//     outcome as it comes (from the ledger for the rows a resumed run did
//     before), or NOT_SENT; the Summary's counts and control totals come from
//     that pass, and report.WriteSummary puts X.summary.json in place. A run
//     of its own writes its reports while it sends: the outcomes come to them
//     through a stream, and pass 2 reads at most a window of rows ahead of
//     the row the reports wait for (stream.admit), so memory holds a few
//     calls' rows whatever the server's pace; reports that fail stop the
//     sending.
package batch
