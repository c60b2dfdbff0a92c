"""eventlog: parse and summarise events from the regional collectors."""
