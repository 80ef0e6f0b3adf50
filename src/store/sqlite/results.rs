//! STUB: results, scheduling claims and retention in SQLite; the store helper replaces this.
