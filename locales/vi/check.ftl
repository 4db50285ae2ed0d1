## `quen check` (loyalty/checks.py): nhãn mỗi dòng, vấn đề, quy tắc, kết luận,
## và vì sao không đọc được cơ sở dữ liệu.

cli-check-unreadable = không đọc được cơ sở dữ liệu: { $error }

check-label-ok = ổn
check-label-fail = LỖI
check-label-warn = CẢNH BÁO
check-found = { $name }: { $count } dòng { $subject }, ví dụ id { $ids }
check-rule = quy tắc: { $rule }
check-summary = Đã kiểm tra { $count } quy tắc trong { NUMBER($seconds, minimumFractionDigits: 1, maximumFractionDigits: 1) } giây: { $verdict }
check-all-hold = tất cả đều đúng
check-problems = { $broken } lỗi, { $warnings } cảnh báo

check-rule-balance_equals_ledger = số điểm lưu sẵn points_balance bằng tổng các giao dịch điểm của thành viên
check-rule-balance_equals_lots = points_balance bằng tổng số điểm còn lại trong mọi lô điểm của thành viên (kể cả lô đã hết hạn nhưng chưa bị trừ)
check-rule-balance_not_negative = không thành viên nào có points_balance dưới 0
check-rule-balance_after_running_sum = balance_after của mỗi giao dịch là tổng cộng dồn các giao dịch của thành viên (theo thứ tự id)
check-rule-lot_remaining_in_range = mỗi lô có số điểm dương và 0 <= remaining <= points
check-rule-lot_remaining_matches_draws = remaining của một lô bằng points của lô trừ đi mọi lần rút điểm từ lô đó
check-rule-debit_matches_draws = các lần rút điểm của một giao dịch trừ điểm (lần nào cũng dương) cộng lại đúng bằng số điểm của nó, giao dịch cộng điểm thì không có lần rút nào
check-rule-credit_fills_one_lot = một giao dịch cộng điểm tạo đúng một lô cùng số điểm, của chính thành viên đó, giao dịch trừ điểm thì không tạo lô nào
check-rule-draw_same_member = mỗi lần rút điểm lấy từ lô của chính thành viên có giao dịch đó
check-rule-draw_respects_expiry = tiêu điểm không bao giờ lấy từ lô đã hết hạn lúc đó, còn trừ điểm hết hạn thì chỉ lấy từ lô đã hết hạn
check-rule-expiry_overdue = điểm của các lô hết hạn hơn hai ngày trước đã được tác vụ ban đêm trừ đi
check-rule-voucher_redeemed_iff_redeemed_at = voucher ở trạng thái đã dùng khi và chỉ khi có thời điểm sử dụng
check-rule-voucher_paid_once = mỗi voucher đổi quà được trả bằng đúng một giao dịch tiêu điểm của chính thành viên đó, dành riêng cho nó, và chỉ voucher đổi quà mới được trả bằng điểm
check-rule-voucher_spend_has_voucher = điểm đã trừ để đổi voucher (khóa voucher:...) đều đã thành một voucher
check-rule-voucher_refund_iff_voided = voucher trả bằng điểm mà bị hủy thì được hoàn đúng số điểm đã trả, một lần, và không voucher nào khác được hoàn (nên không voucher nào vừa bị hủy vừa đã dùng)
check-rule-refund_has_voucher = mọi giao dịch hoàn điểm đều thuộc về một voucher
check-rule-purchase_earned_its_points = lần mua có điểm thì có giao dịch tích điểm cùng số điểm và cùng thành viên, lần mua không có điểm thì không có
check-rule-voided_purchase_reversed = lần mua đã hoàn tác thì đã lấy lại điểm (một giao dịch đảo không quá số điểm của lần mua, trừ khi không còn điểm để lấy), và chỉ lần mua đã hoàn tác mới có giao dịch đảo
check-rule-outbox_has_account = tin nhắn đang chờ gửi (queued hoặc claimed) có tài khoản chat còn tồn tại
check-rule-outbox_has_customer = thành viên của mỗi tin nhắn đều tồn tại, và không còn tin nào chờ gửi cho thành viên đã bị xóa
check-rule-outbox_has_voucher = tin nhắn nói về một voucher thì trỏ tới một voucher còn tồn tại
check-rule-outbox_dedupe_unique = mỗi cặp (tài khoản, khóa chống trùng) chỉ có một tin nhắn: chỉ mục duy nhất đã bảo đảm điều này, vẫn kiểm tra lại cho chắc
check-rule-outbox_stale_lease = không có tin claimed hay sending nào hết thời hạn giữ chỗ quá 30 phút (một tiến trình gửi đã dừng và không tiến trình nào nhận lại các tin đó)
check-rule-campaign_voucher_in_sent_arm = chỉ thành viên thuộc nhóm được gửi của chiến dịch mới nhận voucher của chiến dịch, và voucher đó là của chính họ
