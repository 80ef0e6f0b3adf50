-- Before V5, a monitor's last check kept no reason for a failure (monitor_status had no
-- error_kind), and V5 copied such rows as they were; a failed last check without its reason
-- cannot be read back. Take the reason from the result of that check; where that result is
-- gone (retention), forget the last check instead: the next check, at most an interval
-- away, records it again.

UPDATE monitor_status
SET error_kind = (SELECT r.error_kind FROM results r
                  WHERE r.monitor_id = monitor_status.monitor_id
                    AND r.checked_at = monitor_status.checked_at),
    error_message = (SELECT r.error_message FROM results r
                     WHERE r.monitor_id = monitor_status.monitor_id
                       AND r.checked_at = monitor_status.checked_at)
WHERE ok = 0 AND error_kind IS NULL;

UPDATE monitor_status
SET checked_at = NULL, ok = NULL, status_code = NULL, latency_us = NULL, error_message = NULL
WHERE ok = 0 AND error_kind IS NULL;
