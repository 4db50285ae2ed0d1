## `quen backup` / `quen restore` (bot/backup.py): đã làm gì, và vì sao không làm gì.

cli-backup-done = Đã sao lưu vào { $file } ({ $bytes } byte)
cli-restore-done = Đã khôi phục từ { $file }. Hãy chạy quen check, rồi khởi động bot.

backup-refused-no-database = không có cơ sở dữ liệu tại { $path }
backup-refused-no-file = không có tệp sao lưu tại { $path }
backup-refused-not-sqlite = { $path } không phải là cơ sở dữ liệu SQLite: { $error }
backup-refused-unhealthy = { $path } không phải là cơ sở dữ liệu Quen còn nguyên vẹn ({ $verdict })
backup-refused-holds-a-shop = { $database } đã có dữ liệu của quán: hãy dừng bot rồi thêm --force
backup-refused-no-tool = không tìm thấy { $tool } trong PATH (hãy cài bộ công cụ PostgreSQL client)
backup-refused-tool-failed = { $tool } bị lỗi: { $error }
backup-refused-in-memory = không thể sao lưu hay khôi phục một cơ sở dữ liệu chỉ nằm trong bộ nhớ
