"""Dashboard labels: Thai first, English on request. ``t(key, lang)``; a missing key shows
the key itself, so a typo is visible rather than fatal."""

from __future__ import annotations

from warehouse import rules

LANGS = ("th", "en")

LABELS: dict[str, tuple[str, str]] = {
    # shell
    "app_title": ("tagdraw · ระบบตรวจผลงานชิงรางวัล", "tagdraw · campaign moderation"),
    "sign_in": ("เข้าสู่ระบบ", "Sign in"),
    "sign_in_title": ("เข้าสู่ระบบเพื่อใช้งาน", "Sign in to continue"),
    "sign_in_oidc": ("เข้าสู่ระบบด้วยบัญชีองค์กร", "Sign in with your organisation account"),
    "sign_out": ("ออกจากระบบ", "Sign out"),
    "username": ("ชื่อผู้ใช้", "Username"),
    "password": ("รหัสผ่าน", "Password"),
    "bad_login": ("ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง", "Wrong username or password"),
    "sign_in_wait_s": (
        "ลงชื่อเข้าใช้ผิดหลายครั้ง โปรดรอ {seconds} วินาทีแล้วลองใหม่",
        "Too many failed sign-ins: wait {seconds} s and try again",
    ),
    "sign_in_wait_min": (
        "ลงชื่อเข้าใช้ผิดหลายครั้งเกินไป ถูกระงับชั่วคราว ลองใหม่ใน {minutes} นาที หรือติดต่อผู้ดูแลระบบ",
        "Too many failed sign-ins: locked for now; try again in {minutes} min or ask an admin",
    ),
    "no_account_oidc": (
        "ยังไม่มีบัญชีสำหรับอีเมลนี้ ติดต่อผู้ดูแลระบบ",
        "No account for this e-mail address; ask an admin",
    ),
    "oidc_no_domains": (
        "การเข้าสู่ระบบด้วยบัญชีองค์กรยังตั้งค่าไม่ครบ (ยังไม่ได้กำหนด TAGDRAW_OIDC_EMAIL_DOMAINS) ติดต่อผู้ดูแลระบบ",
        "Single sign-on is not fully set up (TAGDRAW_OIDC_EMAIL_DOMAINS is empty); "
        "ask the operator",
    ),
    "demo_banner": (
        "โหมดสาธิต: ไม่ต้องเข้าสู่ระบบ ทุกคนที่เข้าถึงหน้านี้มีสิทธิ์ผู้ดูแล อย่าใช้กับข้อมูลจริง",
        "DEMO MODE: no sign-in; everyone who can reach this page is an admin. "
        "Not for real campaigns.",
    ),
    "db_busy": ("ฐานข้อมูลกำลังถูกใช้งาน กำลังลองใหม่…", "Database busy, retrying…"),
    "db_gave_up": ("ฐานข้อมูลไม่ว่างนานเกินไป ลองใหม่อีกครั้ง", "The database stayed busy; try again"),
    "language": ("ภาษา", "Language"),
    "era": ("ปีศักราช", "Year era"),
    "era_be": ("พ.ศ.", "Buddhist era"),
    "era_ce": ("ค.ศ.", "Common era"),
    "campaign": ("แคมเปญ", "Campaign"),
    "no_campaigns": (
        "ยังไม่มีแคมเปญ สร้างด้วยคำสั่ง tagdraw campaign create",
        "No campaigns yet: create one with tagdraw campaign create",
    ),
    "signed_in_as": ("ผู้ใช้", "Signed in as"),
    "role_viewer": ("ผู้ชม", "viewer"),
    "role_moderator": ("ผู้ตรวจ", "moderator"),
    "role_admin": ("ผู้ดูแล", "admin"),
    "page": ("หน้า", "Page"),
    "not_allowed": ("บัญชีนี้ไม่มีสิทธิ์ใช้หน้านี้", "Your role cannot use this page"),
    # pages
    "page_overview": ("ภาพรวม", "Overview"),
    "page_review": ("คิวตรวจ", "Review queue"),
    "page_duplicates": ("ผลงานซ้ำ", "Duplicates"),
    "page_audit": ("บันทึกการทำงาน", "Audit log"),
    "page_crawls": ("ประวัติการเก็บข้อมูล", "Crawl history"),
    "page_draw": ("จับรางวัล", "Draw"),
    "page_users": ("ผู้ใช้", "Users"),
    # statuses
    "status_pending": ("รอตรวจ", "pending"),
    "status_eligible": ("ผ่าน", "eligible"),
    "status_duplicate": ("ซ้ำ", "duplicate"),
    "status_spam": ("สแปม", "spam"),
    "status_ineligible": ("ไม่ผ่านเกณฑ์", "ineligible"),
    # reasons a moderator gives (the rules' labels are in warehouse.rules)
    "reason_duplicate": ("ซ้ำ", "duplicate"),
    "reason_spam": ("สแปม", "spam"),
    "reason_other": ("อื่น ๆ", "other"),
    # suggestion kinds
    "kind_duplicate": ("อาจซ้ำ", "possible duplicate"),
    "kind_spam": ("อาจเป็นสแปม", "possible spam"),
    "kind_rule": ("กฎ", "rule"),
    "kind_near_miss": ("เกือบเข้าเกณฑ์", "near miss"),
    # overview
    "counts_by_status": ("จำนวนตามสถานะ", "Entries by status"),
    "entries_per_day": ("ผลงานต่อวัน", "Entries per day"),
    "crawl_health": ("สถานะการเก็บข้อมูล", "Crawl health"),
    "last_run": ("รอบล่าสุด", "Last run"),
    "last_good_run": ("รอบที่สำเร็จล่าสุด", "Last good run"),
    "no_crawls": ("ยังไม่เคยเก็บข้อมูล", "Never crawled"),
    "crawl_stale": (
        "ไม่ได้เก็บข้อมูลสำเร็จมา {hours} ชั่วโมงแล้ว",
        "No good crawl for {hours} hours",
    ),
    "crawl_errors_rising": (
        "ข้อผิดพลาดในการเก็บข้อมูลเพิ่มขึ้น ({recent} ครั้งในรอบล่าสุด)",
        "Crawl errors are rising ({recent} in the last run)",
    ),
    "near_misses": ("เกือบเข้าร่วม (ติดต่อก่อนปิดรับ)", "Near misses (reach them before the deadline)"),
    "near_misses_help": (
        "บันทึกที่พูดถึงคำค้นแต่ไม่ได้ติดแท็ก และผู้ที่ตอบในกระทู้ประกาศแทนการเขียนบันทึก",
        "Posts that mention the keyword without the tag, and answers in the announcement "
        "thread instead of a tagged post",
    ),
    "health_last_run_failed": (
        "รอบล่าสุดไม่สำเร็จทั้งหมด รอบถัดไปจะลองหน้าที่พลาดอีกครั้ง",
        "The last crawl did not finish cleanly; the next crawl retries the failed pages",
    ),
    "health_running": ("กำลังเก็บข้อมูลอยู่ตอนนี้", "A crawl is running now"),
    "health_window_not_open": (
        "แคมเปญยังไม่เปิด จะเริ่มเก็บข้อมูลเมื่อเปิด",
        "The campaign has not opened; crawls start then",
    ),
    "health_window_over": ("สิ้นสุดช่วงเก็บข้อมูลตามกำหนดแล้ว", "Scheduled crawling has ended"),
    "before_draw": ("ก่อนจับรางวัล", "Before the draw"),
    "undecided": ("ยังไม่ตัดสิน", "Undecided"),
    "frozen_since": ("ล็อกรายชื่อแล้วเมื่อ", "Frozen since"),
    "not_frozen": ("ยังไม่ล็อกรายชื่อ", "Not frozen yet"),
    "window": ("ช่วงรับผลงาน", "Entry window"),
    "prizes": ("รางวัล", "Prizes"),
    "total": ("ทั้งหมด", "Total"),
    "status": ("สถานะ", "Status"),
    "duration": ("ใช้เวลา (วินาที)", "Duration (s)"),
    "errors": ("ข้อผิดพลาด", "Errors"),
    "pages": ("หน้าเว็บ", "Pages"),
    "started": ("เริ่ม", "Started"),
    "next_run": ("รอบถัดไป", "Next scheduled run"),
    # review
    "filters": ("ตัวกรอง", "Filters"),
    "search": ("ค้นหาข้อความ", "Search text"),
    "author": ("ผู้เขียน", "Author"),
    "date_from": ("ตั้งแต่วันที่", "From"),
    "date_to": ("ถึงวันที่", "To"),
    "suggestion": ("ข้อเสนอแนะ", "Suggestion"),
    "any": ("ทั้งหมด", "any"),
    "none": ("ไม่มี", "none"),
    "queue_count": ("พบ {n} รายการ", "{n} entries"),
    "page_of": ("หน้า {page} จาก {pages}", "page {page} of {pages}"),
    "open_entry": ("เปิดดูผลงาน", "Open entry"),
    "post": ("บันทึก", "Post"),
    "title": ("ชื่อเรื่อง", "Title"),
    "created": ("เขียนเมื่อ", "Written"),
    "updated": ("แก้ไขเมื่อ", "Edited"),
    "tags": ("แท็ก", "Tags"),
    "comments": ("ความเห็น", "Comments"),
    "no_comments": ("ไม่มีความเห็น", "No comments"),
    "rule_facts": ("ข้อเท็จจริงตามกติกา", "Rule facts"),
    "suggestions": ("ข้อเสนอแนะพร้อมหลักฐาน", "Suggestions with evidence"),
    "no_suggestions": ("ไม่มีข้อเสนอแนะ", "No suggestions"),
    "original_link": ("เปิดต้นฉบับ", "Open the original"),
    "body": ("เนื้อหา (แสดงเป็นข้อความล้วน)", "Text (shown as plain text)"),
    "body_clipped": ("เนื้อหายาวมาก แสดงเพียงบางส่วน", "Very long text: only the start is shown"),
    "history": ("ประวัติการตัดสิน", "Decision history"),
    "decide": ("ตัดสิน", "Decide"),
    "note": ("หมายเหตุ (ไม่บังคับ)", "Note (optional)"),
    "btn_eligible": ("ผ่าน", "Eligible"),
    "btn_duplicate": ("ซ้ำกับ #", "Duplicate of #"),
    "btn_spam": ("สแปม", "Spam"),
    "btn_ineligible": ("ไม่ผ่านเกณฑ์", "Ineligible"),
    "btn_undo": ("ย้อนกลับ", "Undo"),
    "btn_next": ("ถัดไป", "Next"),
    "btn_prev": ("ก่อนหน้า", "Previous"),
    "duplicate_of": ("ซ้ำกับบันทึกหมายเลข", "Duplicate of post number"),
    "ineligible_reason": ("เหตุผลที่ไม่ผ่าน", "Reason"),
    "shortcuts_help": (
        "คีย์ลัด: E ผ่าน · D ซ้ำ · S สแปม · I ไม่ผ่าน · U ย้อนกลับ · J ถัดไป · K ก่อนหน้า",
        "Shortcuts: E eligible · D duplicate · S spam · I ineligible · U undo · "
        "J next · K previous",
    ),
    "decided": ("บันทึกแล้ว: #{post} → {status}", "Saved: #{post} → {status}"),
    "stale": (
        "ผลงานนี้ถูกเปลี่ยนระหว่างที่คุณดูอยู่ แสดงสถานะล่าสุดแล้ว โปรดตรวจอีกครั้ง",
        "This entry changed while you were looking; the latest is shown. Decide again.",
    ),
    "viewer_cannot_decide": (
        "บัญชีผู้ชมดูได้อย่างเดียว ตัดสินไม่ได้",
        "Viewers can look but not decide",
    ),
    "frozen_no_decide": (
        "แคมเปญนี้ล็อกรายชื่อแล้ว ตัดสินเพิ่มไม่ได้",
        "The campaign is frozen for the draw: decisions are locked",
    ),
    "bulk": ("ตัดสินหลายรายการที่เลือก", "Decide the selected entries"),
    "bulk_apply": ("ใช้กับ {n} รายการที่เลือก", "Apply to {n} selected"),
    "bulk_done": (
        "บันทึก {ok} รายการ, ข้าม {stale} รายการที่ถูกเปลี่ยน",
        "Saved {ok}, skipped {stale} changed",
    ),
    "selection_dropped": (
        "คิวเปลี่ยนไประหว่างที่เลือกไว้ {n} รายการ จึงล้างการเลือก โปรดเลือกใหม่",
        "The queue changed while {n} entries were selected, so the selection was cleared: "
        "select again",
    ),
    "bulk_posts": ("รายการที่เลือก: {posts}", "Selected: {posts}"),
    "select_hint": ("เลือกแถวในตารางเพื่อตัดสินหลายรายการ", "Select rows to decide several at once"),
    "nothing_found": ("ไม่พบรายการ", "Nothing found"),
    "current_status": ("สถานะปัจจุบัน", "Current status"),
    "decided_by": ("โดย", "by"),
    "attention": ("ความสำคัญ", "Attention"),
    # duplicates
    "clusters": ("กลุ่มผลงานซ้ำ", "Duplicate clusters"),
    "original": ("ต้นฉบับ", "Original"),
    "copy": ("ฉบับซ้ำ", "Copy"),
    "similarity": ("ความคล้าย", "Similarity"),
    "keep_original": (
        "เก็บต้นฉบับ ตัดสินที่เหลือว่าซ้ำ",
        "Keep the original, mark the rest duplicate",
    ),
    "no_clusters": ("ไม่พบผลงานซ้ำ", "No duplicate clusters"),
    "cluster_done": ("ตัดสินว่าซ้ำแล้ว {n} รายการ", "Marked {n} as duplicate"),
    # audit
    "actor": ("ผู้กระทำ", "Actor"),
    "action": ("การกระทำ", "Action"),
    "when": ("เวลา", "When"),
    "details": ("รายละเอียด", "Details"),
    "download_csv": ("ดาวน์โหลด CSV", "Download CSV"),
    "all_campaigns": ("ทุกแคมเปญ", "all campaigns"),
    # crawls
    "crawl_failed_pages": (
        "บันทึกที่อ่านไม่ครบ (หน้าหรือความเห็นบางส่วนโหลดไม่สำเร็จ) รอบถัดไปจะอ่านใหม่: {posts}",
        "Posts not read completely (a page or part of the thread failed); the next crawl "
        "reads them again: {posts}",
    ),
    "run_errors": ("ข้อผิดพลาดของรอบที่เลือก", "Errors of the selected run"),
    "no_errors": ("ไม่มีข้อผิดพลาด", "No errors"),
    # draw
    "draw_not_available": ("หน้าจับรางวัลยังไม่พร้อมใช้งาน", "The draw page is not available yet"),
    # users
    "add_user": ("เพิ่มผู้ใช้", "Add a user"),
    "display_name": ("ชื่อที่แสดง", "Display name"),
    "role": ("บทบาท", "Role"),
    "save": ("บันทึก", "Save"),
    "disable": ("ระงับ", "Disable"),
    "enable": ("เปิดใช้", "Enable"),
    "reset_password": ("ตั้งรหัสผ่านใหม่", "Set a new password"),
    "user_saved": ("บันทึกแล้ว", "Saved"),
    "cannot_change_self": ("เปลี่ยนบัญชีของตัวเองที่นี่ไม่ได้", "You cannot change your own account here"),
    "last_login": ("เข้าระบบล่าสุด", "Last sign-in"),
    "disabled": ("ระงับแล้ว", "disabled"),
    "active": ("ใช้งาน", "active"),
    "signin_locks": ("การระงับการเข้าสู่ระบบชั่วคราว", "Sign-in locks"),
    "no_signin_locks": ("ไม่มีการระงับในขณะนี้", "No sign-in is locked now"),
    "lock_kind": ("ระงับตาม", "Locked"),
    "lock_kind_username": ("ชื่อผู้ใช้", "username"),
    "lock_kind_client": ("เครื่องที่ใช้ (IP)", "client (IP address)"),
    "lock_key": ("ชื่อผู้ใช้ / IP", "Username / IP address"),
    "lock_failures": ("จำนวนครั้งที่ผิด", "Failures"),
    "locked_at": ("ระงับเมื่อ", "Locked at"),
    "locked_until": ("ระงับถึง", "Locked until"),
    "lift_lock": ("ยกเลิกการระงับ", "Lift the lock"),
    # campaigns page (admins): create, edit, crawl now, schedule status
    "page_campaigns": ("จัดการแคมเปญ", "Campaigns"),
    "camp_list": ("แคมเปญทั้งหมด", "All campaigns"),
    "camp_none": (
        "ยังไม่มีแคมเปญ สร้างแคมเปญแรกด้านล่าง",
        "No campaigns yet: create the first one below",
    ),
    "camp_slug": ("รหัส", "Slug"),
    "camp_title_col": ("ชื่อ", "Title"),
    "camp_state": ("สถานะ", "State"),
    "camp_state_upcoming": ("ยังไม่เปิด", "upcoming"),
    "camp_state_open": ("เปิดรับ", "open"),
    "camp_state_closed": ("ปิดรับแล้ว", "closed"),
    "camp_state_frozen": ("ล็อกผลงานแล้ว", "frozen"),
    "camp_state_drawn": ("จับรางวัลแล้ว", "drawn"),
    "camp_opens": ("เปิดรับ", "Opens"),
    "camp_closes": ("ปิดรับ", "Closes"),
    "camp_pick": ("แคมเปญที่จะจัดการ", "Campaign to manage"),
    "camp_new": ("＋ สร้างแคมเปญใหม่", "+ New campaign"),
    "camp_create_title": ("สร้างแคมเปญใหม่", "New campaign"),
    "camp_edit_title": ("แก้ไขแคมเปญ {slug}", "Edit campaign {slug}"),
    "camp_create": ("สร้างแคมเปญ", "Create campaign"),
    "camp_save": ("บันทึกการแก้ไข", "Save changes"),
    "camp_created": ("สร้างแคมเปญ {slug} แล้ว", "Campaign {slug} created"),
    "camp_saved": ("บันทึกแล้ว: {fields}", "Saved: {fields}"),
    "camp_unchanged": ("ไม่มีอะไรเปลี่ยน", "Nothing changed"),
    "camp_refused": ("บันทึกไม่ได้", "Not saved"),
    "camp_refused_field": ("บันทึกไม่ได้ ช่อง “{field}” ไม่ถูกต้อง", "Not saved: “{field}” is not right"),
    "camp_missing": ("บันทึกไม่ได้ ยังไม่ได้กรอก: {fields}", "Not saved: fill in {fields}"),
    "camp_frozen_note": (
        "แคมเปญนี้ล็อกผลงานเพื่อจับรางวัลแล้ว แก้ไขกติกาไม่ได้ (ต้องปลดล็อกในหน้าจับรางวัลก่อน ซึ่งจะถูกบันทึก)",
        "This campaign is frozen for the draw: its rules cannot be edited (unfreeze it on "
        "the Draw page first; that is logged)",
    ),
    "camp_one_per_line": ("หนึ่งรายการต่อบรรทัด", "one per line"),
    "camp_date_help": (
        "พิมพ์แบบไทยได้ เช่น 15 มกราคม 2569 หรือ 2569-01-15 10:00 (ปี พ.ศ. หรือ ค.ศ.) เวลาประเทศไทย",
        "Thai forms work, e.g. 15 มกราคม 2569 or 2026-01-15 10:00 (Buddhist or common era), "
        "Asia/Bangkok",
    ),
    "camp_date_reads": ("อ่านได้ว่า {date}", "Reads as {date}"),
    "camp_keyword_link": (
        "เปิดหน้ารายการแท็ก “{tag}” บนเว็บไซต์",
        "Open the “{tag}” listing on the site",
    ),
    "camp_preview": ("นับบันทึกในหน้ารายการตอนนี้", "Count the listing's posts now"),
    "camp_preview_count": (
        "หน้ารายการแท็ก “{tag}” แสดง {count} บันทึก",
        "The “{tag}” listing shows {count} posts",
    ),
    "camp_preview_unknown": (
        "อ่านหน้ารายการแท็ก “{tag}” ได้ แต่ไม่พบจำนวนบันทึก ({items} บันทึกในหน้าแรก)",
        "The “{tag}” listing was read but shows no count ({items} posts on its first page)",
    ),
    "camp_preview_failed": ("อ่านหน้ารายการไม่ได้: {error}", "Could not read the listing: {error}"),
    "camp_crawl": ("เก็บข้อมูล", "Crawl"),
    "camp_crawl_now": ("เก็บข้อมูลตอนนี้", "Crawl now"),
    "camp_crawl_started": (
        "เริ่มเก็บข้อมูลแล้ว กำลังรอให้เริ่มทำงาน…",
        "Crawl started, waiting for it to begin…",
    ),
    "camp_crawl_running_other": (
        "กำลังเก็บข้อมูลแคมเปญนี้อยู่แล้ว (เริ่มโดย {trigger}) จึงเริ่มซ้ำไม่ได้ ความคืบหน้าของรอบนั้น:",
        "This campaign is already being crawled (started by {trigger}); another crawl cannot "
        "start. That run's progress:",
    ),
    "camp_crawl_running": ("กำลังเก็บข้อมูล (รอบที่ {run})", "Crawling (run {run})"),
    "camp_cancel": ("หยุดการเก็บข้อมูล", "Stop the crawl"),
    "camp_cancel_asked": (
        "ขอให้หยุดแล้ว ({by}) หน้าที่กำลังโหลดจะบันทึกก่อนหยุด รอบต่อไปจะทำต่อจากที่ค้างไว้",
        "Stop asked for ({by}): pages in progress are saved first; the next crawl resumes",
    ),
    "camp_progress_listing": ("หน้ารายการแท็ก", "Listing pages"),
    "camp_progress_posts": ("บันทึกที่ดึงแล้ว", "Posts fetched"),
    "camp_progress_of": ("{done} จาก {planned}", "{done} of {planned}"),
    "camp_progress_reading": ("กำลังอ่านหน้ารายการ", "reading the listing"),
    "camp_progress_comments": ("หน้าความเห็น", "Comment pages"),
    "camp_progress_errors": ("หน้าที่ล้มเหลว", "Failed pages"),
    "camp_progress_rate": ("คำขอ/วินาที", "Requests/s"),
    "camp_crawl_done": (
        "เก็บข้อมูลเสร็จ (รอบที่ {run}): {status}",
        "Crawl finished (run {run}): {status}",
    ),
    "camp_crawl_exited": (
        "กระบวนการเก็บข้อมูลจบโดยไม่ได้เริ่มรอบใหม่ ดูบันทึก {log}",
        "The crawl process ended without starting a run; see {log}",
    ),
    "camp_last_run": ("รอบล่าสุด", "Last run"),
    "camp_never_crawled": ("ยังไม่เคยเก็บข้อมูล", "Never crawled"),
    "camp_schedule": (
        "การเก็บข้อมูลตามกำหนดเวลา (tagdraw schedule)",
        "Scheduled crawls (tagdraw schedule)",
    ),
    "camp_schedule_running": (
        "ทำงานอยู่ ({schedule}) สัญญาณล่าสุด {at}",
        "Running ({schedule}); last heartbeat {at}",
    ),
    "camp_schedule_stopped": (
        "หยุดทำงาน: ไม่มีสัญญาณตั้งแต่ {at} ({schedule})",
        "Stopped: no heartbeat since {at} ({schedule})",
    ),
    "camp_schedule_none": (
        "ไม่ได้เปิดใช้ tagdraw schedule เก็บข้อมูลได้ด้วยปุ่มด้านบน หรือเปิดใช้ตามวิธีด้านล่าง",
        "tagdraw schedule is not running: crawl with the button above, or set it up as below",
    ),
    "camp_schedule_next": ("รอบถัดไป", "Next run"),
    "camp_schedule_recipe": ("วิธีตั้งค่าให้ทำงานเอง (systemd / cron)", "How to run it (systemd / cron)"),
    "camp_schedule_recipe_intro": (
        "ให้ผู้ดูแลเครื่องติดตั้งเป็นบริการ systemd (แนะนำ) หรือบรรทัด cron ตามนี้ รายละเอียดใน docs/operators.md หัวข้อ tagdraw schedule",
        "Ask whoever runs the server to install it as a systemd service (recommended) or a "
        "cron line, as below; docs/operators.md (tagdraw schedule) has the details",
    ),
}


def t(key: str, lang: str = "th", **values: object) -> str:
    """The label for ``key`` in ``lang`` ("th" or "en"), with ``{name}`` placeholders filled."""
    pair = LABELS.get(key)
    if pair is not None:
        text = pair[1 if lang == "en" else 0]
    elif key.startswith("reason_"):
        text = rules.label(key.removeprefix("reason_"), lang) or key
    else:
        text = key
    return text.format(**values) if values else text
