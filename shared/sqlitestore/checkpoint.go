package sqlitestore

import (
	"database/sql"
	"time"
)

// checkpointer copies the write-ahead log into the database file on a
// connection of its own, after each write transaction, in the background
// (PRAGMA wal_checkpoint(PASSIVE): it never blocks a writer, and copies what
// no reader still needs). Writers then rarely checkpoint themselves (only
// past walBackstopPages), so a stream batch's commit is not held up by
// copying pages and syncing the file; on a machine with more than one core
// the copy runs beside the next batch. SQLite restarts the log from its
// beginning once a checkpoint has copied all of it.
type checkpointer struct {
	db   *sql.DB
	kick chan struct{} // a write committed
	stop chan struct{}
	done chan struct{}
}

// walBackstopPages is when a writer checkpoints itself after all: the log
// outgrew what the checkpointer keeps up with (64 MiB of 4 KiB pages).
const walBackstopPages = 16384

// checkpointEvery is how long the checkpointer lets commits gather before
// it copies the log: what is not yet copied is safe in the log, and a
// reader finds it there.
const checkpointEvery = 250 * time.Millisecond

func startCheckpointer(dsn string) (*checkpointer, error) {
	db, err := openDB(dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
			// Commits within checkpointEvery of each other share one
			// checkpoint: a page written by each of them is copied and
			// synced once, not once a commit.
			select {
			case <-c.stop:
				return
			case <-time.After(checkpointEvery):
			}
			// A failed checkpoint loses nothing: the log keeps the pages,
			// and the next one (or a writer, past the backstop) copies them.
			c.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// wrote tells the checkpointer a write committed; kicks coalesce.
func (c *checkpointer) wrote() {
	if c == nil {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	close(c.stop)
	<-c.done
	return c.db.Close()
}
