package importers

import "encoding/csv"

// Recorder accounts for the rows of one file read by an importer other than
// the canonical one (the mapping profiles): it keeps the Report and writes
// rejects in the same CSV form, so every importer's rejects file and counts
// look alike.
type Recorder struct {
	im *importer
}

// NewRecorder starts the report of one file; opts.Name and opts.Rejects are
// used as by ImportReader.
func NewRecorder(opts Options, format Format) *Recorder {
	im := &importer{opts: opts}
	im.rep.File = opts.Name
	im.rep.Format = format
	im.rejCSV = csv.NewWriter(&im.rejBuf)
	return &Recorder{im: im}
}

// Report returns the report so far.
func (r *Recorder) Report() Report { return r.im.rep }

// Read counts one row read.
func (r *Recorder) Read() { r.im.rep.Read++ }

// Unread takes back one row counted by Read, for a row the sink refused
// (the import stops, and the row is neither imported nor rejected).
func (r *Recorder) Unread() { r.im.rep.Read-- }

// Imported counts one row that reached the sink.
func (r *Recorder) Imported() { r.im.rep.Imported++ }

// Stub counts one stub entity sent to the sink.
func (r *Recorder) Stub() { r.im.rep.Stubs++ }

// Reject records a rejected row and writes it to the rejects file; the
// error is the rejects writer's.
func (r *Recorder) Reject(line int, column, value, reason string) error {
	return r.im.reject(line, rowError{column: column, value: value, reason: reason})
}

// Skip records a row that was read but is not data (metadata, a total or
// balance row, a row the profile skips) and why.
func (r *Recorder) Skip(line int, reason string) {
	rep := &r.im.rep
	rep.Skipped++
	if len(rep.Skips) < MaxRejectsKept {
		rep.Skips = append(rep.Skips, Reject{File: r.im.opts.Name, Line: line, Reason: reason})
	}
}

// SetFormat names the kind of file in the report.
func (r *Recorder) SetFormat(f Format) { r.im.rep.Format = f }

// Times returns the counts of how the file's transactions gave their
// times, for the importer to add to.
func (r *Recorder) Times() *TimeCounts { return &r.im.rep.Times }

// SetTimeZone names the wall clock of the file's times (an IANA zone or
// "UTC+01:00").
func (r *Recorder) SetTimeZone(zone string) { r.im.rep.TimeZone = zone }
