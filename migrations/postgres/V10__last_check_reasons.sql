-- Before V5, a monitor's last check kept no reason for a failure (monitor_status had no
-- error_kind), and V5 copied such rows as they were; a failed last check without its reason
-- cannot be read back. Take the reason from the result of that check; where that result is
-- gone (retention), forget the last check instead: the next check, at most an interval
-- away, records it again.

UPDATE monitor_status s
SET error_kind = r.error_kind, error_message = r.error_message
FROM results r
WHERE r.monitor_id = s.monitor_id AND r.checked_at = s.checked_at
  AND NOT s.ok AND s.error_kind IS NULL;

UPDATE monitor_status
SET checked_at = NULL, ok = NULL, status_code = NULL, latency_us = NULL, error_message = NULL
WHERE NOT ok AND error_kind IS NULL;
