package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// meter is the one progress line of long work (run's replays, sweep,
// backfill, report) on stderr: items done, of the total when known, items a
// second and the time left. It draws only on a terminal and not before
// delay has passed (short work stays silent), redraws at most once an
// interval, and is silent when stderr is not a terminal or --no-progress is
// set: a pipe or a log file gets no carriage returns.
type meter struct {
	w        io.Writer
	on       bool
	now      func() time.Time
	interval time.Duration // at most one redraw an interval
	delay    time.Duration // nothing drawn before

	label, unit   string
	total, base   int // total: 0 when unknown; base: done before (resumed), not in the rate
	done          int
	detail        string
	started, last time.Time
	drawn         bool
	draws         int // lines drawn, for tests
}

// newMeter is a meter on w, drawing when w is a terminal and progress is
// wanted.
func newMeter(w io.Writer, wanted bool) *meter {
	return &meter{w: w, on: wanted && isTerminal(w), now: time.Now, interval: 250 * time.Millisecond, delay: 500 * time.Millisecond}
}

// isTerminal says whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// start starts a piece of work: label ("sweep", "backfill eu-west-1/users"),
// the unit counted, the total (0: unknown) and what was done before.
func (m *meter) start(label, unit string, total, base int) {
	m.label, m.unit, m.total, m.base, m.done, m.detail = label, unit, total, base, base, ""
	m.started, m.last = m.now(), time.Time{}
}

// set records the items done (and a detail shown after them) and redraws
// the line when it is due.
func (m *meter) set(done int, detail string) {
	m.done, m.detail = done, detail
	if !m.on {
		return
	}
	t := m.now()
	if t.Sub(m.started) < m.delay || (!m.last.IsZero() && t.Sub(m.last) < m.interval) {
		return
	}
	m.last = t
	m.draw("\r\033[K" + m.line(t))
}

// add is set(done+n).
func (m *meter) add(n int) { m.set(m.done+n, m.detail) }

func (m *meter) draw(s string) {
	fmt.Fprint(m.w, s)
	m.drawn = true
	m.draws++
}

// line is where the work stands at t.
func (m *meter) line(t time.Time) string {
	s := fmt.Sprintf("%s: %d", m.label, m.done)
	if m.total > 0 {
		s += fmt.Sprintf(" of %d", m.total)
	}
	s += " " + m.unit
	if m.detail != "" {
		s += " (" + m.detail + ")"
	}
	if el := t.Sub(m.started).Seconds(); el > 0 {
		rate := float64(m.done-m.base) / el
		s += fmt.Sprintf(", %.0f %s/s", rate, m.unit)
		if left := m.total - m.done; m.total > 0 && rate > 0 && left > 0 {
			s += fmt.Sprintf(", %s left", (time.Duration(float64(left)/rate) * time.Second).Round(time.Second))
		}
	}
	return s
}

// clear erases the line, before other output goes to the terminal; the
// next set draws it again.
func (m *meter) clear() {
	if m.drawn {
		fmt.Fprint(m.w, "\r\033[K")
		m.drawn, m.last = false, time.Time{}
	}
}

// finish ends the work: when a line was drawn, a last one with the final
// figures, kept on the terminal; nothing for work too short to draw.
func (m *meter) finish() {
	if m.on && m.draws > 0 {
		m.draw("\r\033[K" + m.line(m.now()) + ", done in " + m.now().Sub(m.started).Round(time.Millisecond).String() + "\n")
		m.drawn = false
	}
	m.draws = 0
}
