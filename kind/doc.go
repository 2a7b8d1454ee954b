// Package kind holds crmbatch's job kinds: for each, what a row is (its
// columns and how a cell becomes a value the API takes), what it does (its
// effect, and the entity it claims across runs), and how its call is made and
// its answer mapped back to one result per row. A new job kind is one file
// here that builds a Kind.
//
// A kind reaches the run only through Executor (the client, the clock, the
// retries and the intent of each call), so it cannot depend on how rows are
// read, planned or recorded: those are the pipeline's (batch), which holds
// kinds without a kind knowing it.
package kind
