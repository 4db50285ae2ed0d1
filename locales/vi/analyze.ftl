## `quen analyze` dạng chữ (bot/reports.py); --json giữ nguyên, cho chương trình đọc.

analyze-title = Phân tích tính đến { $date }: { $members } thành viên, trong { NUMBER($seconds, minimumFractionDigits: 2, maximumFractionDigits: 2) } giây
analyze-segments = Phân khúc (RFM):
analyze-active = Có ghé quán trong 30 ngày qua, theo phân khúc:
analyze-active-of = { $active } trên { $members }
analyze-kpis = Chỉ số (KPI), 30 ngày qua:
analyze-bgnbd = BG/NBD (đơn vị thời gian: ngày, { $members } thành viên): r={ $r } alpha={ $alpha } a={ $a } b={ $b } log-likelihood={ $fit }
analyze-gamma = Gamma-Gamma (VND, { $members } thành viên mua lại): p={ $p } q={ $q } v={ $v } chi tiêu trung bình={ $spend } log-likelihood={ $fit }
analyze-not-fitted = Chưa ước lượng được mô hình khách rời bỏ: { $reason } (tạm dùng quy tắc khoảng cách giữa các lần ghé)
