package failure

// RecordedError is a failure read back from the state store: the message
// and the class it was recorded with. Classify gives it that class, so a
// process continuing work another one began (a failover pair's run whose
// replica died) judges the failure as the first process would have.
type RecordedError struct {
	Class   Class
	Message string
}

func (e *RecordedError) Error() string { return e.Message }

// Recorded rebuilds a recorded failure: class and message, marked as on
// the source side when it was.
func Recorded(class Class, onSource bool, msg string) error {
	err := error(&RecordedError{Class: class, Message: msg})
	if onSource {
		return &SourceError{Err: err}
	}
	return err
}
