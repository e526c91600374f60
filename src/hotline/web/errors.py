"""Action errors as Chinese (or English) messages next to the form fields.

Actions raise ``InvalidInput`` with ``[{field, rule, message}]``; the messages are
written for API clients (English). Pages show a translated message per rule and
keep the English one only for rules not listed here.
"""

from __future__ import annotations

import re
from collections import defaultdict

from django.utils.translation import gettext_lazy as _

from hotline.lib.errors import InvalidInput

RULE_MESSAGES = {
    "required": _("此项必填"),
    "max_length": _("内容过长"),
    "phone_format": _("电话号码应为5-20位数字"),
    "id_number_format": _("身份证号应为18位(17位数字加数字或X)"),
    "exists": _("所选项不存在或已停用"),
    "can_handle": _("该单位不承办工单"),
    "distinct_from_lead": _("主办单位不能同时作为协办单位"),
    "choice": _("请从列表中选择"),
    "number": _("请输入数字"),
    "range": _("超出允许范围"),
    "type": _("格式不正确"),
    "date": _("请输入日期(年-月-日)"),
    "after_current_deadline": _("延期日期必须晚于当前办理时限"),
    "one_pending_extension": _("已有待审批的延期申请"),
    "pending_request": _("没有待审批的延期申请"),
    "in_lead_department": _("承办人必须是主办单位的在岗人员"),
    "required_when_dissatisfied": _("回访不满意时办结须填写理由"),
    "different_ticket": _("不能合并到工单本身"),
    "valid_original": _("该工单不能作为原工单"),
    "not_empty": _("文件为空"),
    "max_size": _("文件过大"),
    "allowed_type": _("不接受此类型的文件"),
    "content_matches_type": _("文件内容与类型不符"),
    "open_supervision": _("该工单没有进行中的督办"),
    "captcha": _("验证码不正确,请重新计算"),
    "rate_limit": _("提交过于频繁,请稍后再试"),
    "datetime": _("请输入日期和时间"),
    "unique": _("已存在相同的记录"),
    "positive_days": _("请输入允许范围内的工作日数"),
    "two_levels": _("分类只有两级"),
    "cycle": _("不能挂在自身或其下级之下"),
    "code_format": _("编码格式不正确"),
    "phone_tail": _("请输入联系电话后四位"),
    "not_found": _("查询码或电话不正确"),
    "recording_ref_format": _("通话录音编号格式不正确(应为 call:通话编号)"),
}


def field_errors(exc: InvalidInput, rename: dict[str, str] | None = None) -> dict[str, list[str]]:
    """{form field: [message, ...]} for one InvalidInput; ``rename`` maps action
    field names onto form field names (``comment`` → ``reason``)."""
    out: dict[str, list[str]] = defaultdict(list)
    for err in exc.errors:
        field = (rename or {}).get(err["field"], err["field"])
        message = RULE_MESSAGES.get(err["rule"])
        text = str(message) if message is not None else err.get("message", err["rule"])
        base = re.split(r"[\[.]", field, maxsplit=1)[0]
        base = (rename or {}).get(base, base)
        if base != field:  # an item of a list ("text[3].date"): shown under the list's field, with the line
            line = err.get("line")
            text = (str(_("第%(n)s行:")) % {"n": line} if line else f"{field}: ") + text
        out[base].append(text)
    return dict(out)
