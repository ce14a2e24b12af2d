"""Student performances (多元表現, issue 8 item 9): external competitions, licences, work-based
learning, works, advanced courses and other performances, each with its proof file and the
fields of its national roster sheet (DOMAIN.md, 多元表現名冊)."""
