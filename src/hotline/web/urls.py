from django.urls import include, path

from hotline.web import admin, portal, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.login_page, name="login"),
    path("accounts/logout/", views.logout_page, name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("desk/", views.desk, name="desk"),
    path("desk/caller/", views.caller, name="caller"),
    path("work/", views.work, name="work"),
    path("tickets/<str:ref>/", views.ticket_page, name="ticket"),
    path("tickets/<str:ref>/transfer.pdf", views.transfer_form, name="transfer_form"),
    path("tickets/<str:ref>/edit/", views.ticket_edit, name="ticket_edit"),
    path("tickets/<str:ref>/do/<str:name>/", views.ticket_action, name="ticket_action"),
    path("tickets/<str:ref>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path("search/", views.search, name="search"),
    path("search/export.xlsx", views.search_export, name="search_export"),
    path("search/save/", views.search_save, name="search_save"),
    path("search/saved/<int:search_id>/delete/", views.search_delete, name="search_delete"),
    path("dept/", views.dept, name="dept"),
    path("reminders/", views.reminders, name="reminders"),
    path("reminders/new/", views.reminder_new, name="reminder_new"),
    path("reminders/<int:reminder_id>/done/", views.reminder_done, name="reminder_done"),
    path("manage/departments/", admin.departments, name="admin_departments"),
    path("manage/departments/<int:dept_id>/", admin.departments, name="admin_department"),
    path("manage/parameters/", admin.parameter_list, name="admin_parameters"),
    path("manage/dictionary/<str:kind>/", admin.dictionary, name="admin_dictionary"),
    path("manage/dictionary/<str:kind>/<int:entry_id>/", admin.dictionary, name="admin_dictionary_entry"),
    path("manage/deadline-rules/", admin.deadline_rules, name="admin_rules"),
    path("manage/deadline-rules/<int:rule_id>/", admin.deadline_rules, name="admin_rule"),
    path("manage/holidays/", admin.holidays, name="admin_holidays"),
    path("manage/users/", admin.users, name="admin_users"),
    path("manage/users/<int:user_id>/", admin.users, name="admin_user"),
    path("audit/", admin.audit_log, name="audit"),
    path("portal/", portal.portal_home, name="portal"),
    path("portal/submit/", portal.portal_submit, name="portal_submit"),
    path("portal/track/", portal.portal_track, name="portal_track"),
    path("portal/knowledge/", portal.portal_knowledge, name="portal_knowledge"),
    path("portal/knowledge/<int:article_id>/", portal.portal_article, name="portal_article"),
]
