## Dòng lệnh `quen`, cho chủ quán hoặc người vận hành máy chủ, theo QUEN_DEFAULT_LANGUAGE.
## Tên tùy chọn, biến cài đặt, quy tắc, bảng và cột giữ nguyên.

cli-bad-setting = cài đặt không hợp lệ: { $error }
cli-migrated = Cơ sở dữ liệu đã được cập nhật: { $database }

cli-import-done = { $rows } dòng: đã nhập { $imported } lần mua, { $duplicates } lần mua đã có sẵn, { $rejected } dòng bị loại ({ $new } thành viên mới, { $linked } khớp với thành viên đã có) trong { NUMBER($seconds, minimumFractionDigits: 1, maximumFractionDigits: 1) } giây
cli-import-rejects = Các dòng bị loại, kèm số dòng và lý do: { $path }

cli-demo-done = Quán demo đã sẵn sàng sau { NUMBER($seconds, minimumFractionDigits: 1, maximumFractionDigits: 1) } giây: { $stores } cửa hàng, { $members } thành viên, { $purchases } lần mua, { $rewards } phần quà, { $vouchers } voucher. Tiếp theo: chạy quen analyze, rồi quen chat --as owner và thử /stats, /segments.

cli-zalo-needs-app = hãy đặt QUEN_ZALO_APP_ID, QUEN_ZALO_APP_SECRET, QUEN_ZALO_OA_SECRET_KEY trước
cli-zalo-needs-redirect = hãy thêm --redirect-uri (địa chỉ callback đã đăng ký cho ứng dụng Zalo)
cli-zalo-open = Mở đường link này bằng tài khoản quản trị Official Account và cho phép truy cập:
cli-zalo-paste = Sau đó dán `code` trong địa chỉ mà Zalo chuyển bạn tới:
cli-zalo-refused = Zalo không chấp nhận mã: { $error }
cli-zalo-done = Đã cấp quyền Zalo: mã truy cập đã được lưu, từ nay Quen tự gia hạn.

cli-apikey-created = Khóa #{ $id } cho cửa hàng { $store } ({ $name }), chỉ hiện một lần:
cli-apikey-revoked = Đã thu hồi khóa #{ $id }
cli-apikey-store = cửa hàng { $store } ({ $name })
cli-apikey-used = dùng lần cuối { $time }
cli-apikey-unused = chưa dùng
cli-apikey-live = còn hiệu lực
cli-apikey-revoked-on = đã thu hồi { $date }
cli-apikey-error-unknown-store = không có cửa hàng nào mang số hoặc tên này
cli-apikey-error-unknown-key = không có khóa API số này
cli-apikey-error-already-revoked = khóa này đã được thu hồi trước đó

## Vì sao `quen import purchases` không nhập gì (loyalty/importer.py).

import-either = { $first } hoặc { $second }
import-refused-no-member-column = Hãy cho biết cột mã khách hàng hoặc cột số điện thoại (hoặc cả hai).
import-refused-bad-scale = Hệ số nhân số tiền phải lớn hơn 0, không phải { $scale }.
import-refused-unknown-encoding = Không nhận ra bảng mã { $encoding }.
import-refused-empty = Tệp { $file } trống.
import-refused-not-csv = Tệp { $file } không phải là tệp CSV đọc được (dòng { $line }: { $error }).
import-refused-undecodable = Tệp { $file } không phải văn bản { $encoding }: byte 0x{ $byte } ở dòng { $line } không hợp lệ trong { $encoding }. Hãy lưu tệp dạng UTF-8 (trong Excel: "CSV UTF-8"), hoặc cho biết bảng mã của tệp (tệp xuất từ Windows tiếng Việt thường là cp1258).
import-refused-not-text = Tệp { $file } không phải văn bản { $encoding }.
import-refused-unreadable = Không đọc được { $path }: { $error }.
import-refused-no-rows = Tệp { $file } có dòng tiêu đề nhưng không có lần mua nào.
import-refused-duplicate-column = Tệp { $file } có { $count } cột cùng tên { $column }.
import-refused-missing-columns = Tệp { $file } không có cột { $missing }. Các cột của tệp là: { $columns }.

## `quen demo` khi cơ sở dữ liệu đã có thành viên (loyalty/demo.py).

demo-refused-not-empty = Cơ sở dữ liệu đã có { $members } thành viên: bản demo chỉ điền vào một chương trình còn trống. Hãy trỏ QUEN_DATABASE_URL tới một cơ sở dữ liệu mới (ví dụ sqlite://data/demo.sqlite3) rồi chạy lại.
