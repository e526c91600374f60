"""Tickets (工单) and everything that hangs off them.

Only ``cases.lifecycle`` writes ``Ticket.status``; only ``cases.actions`` and
``cases.deadlines`` write the other fields. Events are append-only.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    REGISTERED = "registered", _("已受理")
    RESOLVED = "resolved", _("直接办结")
    DISPATCHED = "dispatched", _("已派单待签收")
    RETURN_REQUESTED = "return_requested", _("退回待审核")
    RETURNED = "returned", _("已退回待重派")
    SIGNED = "signed", _("已签收")
    HANDLING = "handling", _("办理中")
    REPLIED = "replied", _("已回复待审核")
    REVIEWED = "reviewed", _("审核通过待回访")
    CALLED_BACK = "called_back", _("已回访")
    CLOSED = "closed", _("已办结")
    MERGED = "merged", _("已合并")
    VOIDED = "voided", _("已作废")
    NOT_ACCEPTED = "not_accepted", _("不予受理")


#: States in which a department holds the ticket and its deadline runs.
DEPARTMENT_STATES = frozenset({Status.DISPATCHED, Status.SIGNED, Status.HANDLING, Status.RETURN_REQUESTED})
#: The same, sorted: filters and partial-index conditions must spell the list identically
#: (SQLite matches a partial index's condition word for word).
RUNNING_LIST = sorted(DEPARTMENT_STATES)
#: States from which nothing more happens (``reopen`` aside for CLOSED).
FINAL_STATES = frozenset({Status.CLOSED, Status.MERGED, Status.VOIDED, Status.NOT_ACCEPTED})


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    VERY_URGENT = "very_urgent", _("特急")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")
    UNREACHABLE = "unreachable", _("联系不上")


class Ticket(models.Model):
    number = models.CharField(_("工单编号"), max_length=20, unique=True)
    query_code = models.CharField(_("查询码"), max_length=12, unique=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.DRAFT)

    citizen = models.ForeignKey("directory.Citizen", null=True, blank=True, on_delete=models.PROTECT, related_name="tickets")
    citizen_name = models.CharField(_("来电人"), max_length=64, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=32, db_index=True)
    confidential = models.BooleanField(_("要求保密"), default=False)

    # No index of their own: the (field, created_at) indexes in Meta serve every look-up
    # by these columns, and each index is one more write per registration.
    source = models.ForeignKey("directory.Source", on_delete=models.PROTECT, related_name="+", db_index=False)
    service_type = models.ForeignKey("directory.ServiceType", on_delete=models.PROTECT, related_name="+", db_index=False)
    category = models.ForeignKey("directory.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    district = models.ForeignKey("directory.District", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)

    summary = models.CharField(_("诉求摘要"), max_length=200)
    content = models.TextField(_("诉求内容"))
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    leader_instruction = models.TextField(_("领导批示"), blank=True)

    # No single-column index: ``ticket_lead_created`` and ``ticket_lead_status`` start with it.
    lead_department = models.ForeignKey(
        "directory.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="lead_tickets", db_index=False
    )
    assisting_departments = models.ManyToManyField(
        "directory.Department", through="TicketAssist", related_name="assist_tickets", blank=True
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="handled_tickets"
    )

    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), db_index=True)
    registered_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    replied_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Deadlines (cases.deadlines): the period starts at dispatch (or reopen) and runs
    # ``deadline_days`` working days; ``warn_at`` is where the ticket turns yellow.
    sign_deadline = models.DateTimeField(_("签收时限"), null=True, blank=True)
    deadline_start = models.DateTimeField(null=True, blank=True)
    deadline_days = models.PositiveSmallIntegerField(null=True, blank=True)
    deadline = models.DateTimeField(_("办理时限"), null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    #: An approved extension fixes the deadline to a date; rule changes leave it alone.
    deadline_fixed = models.BooleanField(default=False)
    # Automatic urging happens once per threshold and deadline period.
    urged_sign_at = models.DateTimeField(null=True, blank=True)
    urged_yellow_at = models.DateTimeField(null=True, blank=True)
    urged_red_at = models.DateTimeField(null=True, blank=True)
    urge_count = models.PositiveIntegerField(_("催办次数"), default=0)

    result = models.TextField(_("办理结果"), blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=16, choices=Satisfaction.choices, blank=True)
    recording_ref = models.CharField(_("通话录音"), max_length=255, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates")
    reopen_count = models.PositiveSmallIntegerField(default=0)
    #: Bumped by every transition; clients may send it back to detect stale forms.
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # A department's tickets newest first, and by status (counts and deep pages of
            # department users, ``queries.search``): with the id (and, for the first, the
            # status and urgency) in the index, PostgreSQL counts and pages from the index
            # alone instead of reading each ticket (docs/benchmarks.md, 2026-12-01).
            models.Index(fields=["lead_department", "created_at"], include=["id", "status", "urgency"], name="ticket_lead_created"),
            models.Index(fields=["lead_department", "status", "created_at"], include=["id"], name="ticket_lead_status"),
            models.Index(fields=["deadline"]),
            models.Index(fields=["source", "created_at"]),
            models.Index(fields=["service_type", "created_at"]),
            models.Index(fields=["category", "created_at"]),
            models.Index(fields=["district", "created_at"]),
            # Lists by district and status (counted, and sorted by date), and closed
            # tickets newest-closed first (bench/list_tickets.py, docs/benchmarks.md).
            models.Index(fields=["district", "status", "created_at"], name="ticket_district_status"),
            models.Index(fields=["status", "closed_at"], name="ticket_status_closed"),
            # The ticket a call was registered from (telephony.access.linked_tickets: may this
            # user play the recording?) — without it every ticket page with a call read the table.
            models.Index(fields=["recording_ref"], name="ticket_recording_ref"),
            # The deadline job's work lists: open tickets not yet urged at a threshold, so a
            # run with nothing new reads a few index pages however many tickets are closed.
            models.Index(fields=["warn_at"], condition=Q(status__in=RUNNING_LIST, urged_yellow_at__isnull=True), name="ticket_yellow_due"),
            models.Index(fields=["deadline"], condition=Q(status__in=RUNNING_LIST, urged_red_at__isnull=True), name="ticket_red_due"),
            models.Index(fields=["sign_deadline"], condition=Q(status=Status.DISPATCHED, urged_sign_at__isnull=True), name="ticket_sign_due"),
            # Colour filters and "by deadline" lists of running tickets.
            models.Index(fields=["deadline"], condition=Q(status__in=RUNNING_LIST), name="ticket_running_deadline"),
            models.Index(fields=["warn_at"], condition=Q(status__in=RUNNING_LIST), name="ticket_running_warn"),
            # Colour filters with a district, and red/yellow counts by status (SQLite picks
            # these over the plain status and district indexes, which read every ticket).
            models.Index(fields=["district", "warn_at", "deadline"], condition=Q(status__in=RUNNING_LIST), name="ticket_running_district"),
            models.Index(fields=["status", "deadline"], condition=Q(status__in=RUNNING_LIST), name="ticket_running_status"),
        ]

    def __str__(self) -> str:
        return self.number


class TicketAssist(models.Model):
    """An assisting department (协办单位) on a ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="assists")
    department = models.ForeignKey("directory.Department", on_delete=models.PROTECT, related_name="+")
    opinion = models.TextField(_("协办意见"), blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "department"], name="ticket_assist_unique")]


class TicketEvent(models.Model):
    """One line of the ticket's timeline. Append-only."""

    # Indexed by (ticket, at) in Meta, which also serves look-ups by ticket alone.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", db_index=False)
    at = models.DateTimeField()
    kind = models.CharField(max_length=32)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150)
    actor_department = models.ForeignKey("directory.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"]), models.Index(fields=["kind", "at"])]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("ticket events are append-only")
        super().save(*args, **kwargs)


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField()


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已同意")
    REFUSED = "refused", _("已拒绝")


class ExtensionRequest(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="extension_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField()
    reason = models.TextField()
    requested_date = models.DateField()
    old_deadline = models.DateTimeField(null=True)
    status = models.CharField(max_length=16, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(status="pending"), name="one_pending_extension_per_ticket"
            )
        ]


class Supervision(models.Model):
    """督办: formal supervision of a ticket, open until the supervisor closes it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="supervisions")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField()
    comment = models.TextField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["ticket"], condition=Q(closed_at__isnull=True), name="supervision_open")]


class TicketSequence(models.Model):
    """Per-day counter behind ticket numbers (YYYYMMDD + 5 digits)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


class CacheGeneration(models.Model):
    """One generation per per-process cache (``cases.cache``): every write to a cached
    table gives it a new random value, and every process drops its copy when it sees
    a value other than the one it loaded under."""

    name = models.CharField(max_length=32, primary_key=True)
    value = models.BigIntegerField(default=0)
