package batch

import "github.com/crmbatch/crmbatch/formats"

// hooks let this package's tests watch a run from the inside and inject the
// faults no real file or server can be made to produce on demand: the stream
// that carries the outcomes to the reports, and the reports' writers (one
// that fails midway, as a full disk does). A run from the command line has
// none.
type hooks struct {
	stream func(*stream)                                   // told of the run's stream, before anything is sent
	writer func(formats.ReportWriter) formats.ReportWriter // wraps each report writer
}
