// Chinese labels of event kinds and clock states, shared by the inbox and the live feed.

export const KIND_LABELS = {
  received: "受理",
  repeated: "重复反映",
  classified: "分类",
  reclassified: "人工分拣",
  routed: "转办",
  tracked: "开始计时",
  escalated: "督办",
  signed: "签收",
  answered: "答复",
  returned: "退回",
  paused: "挂起",
  resumed: "恢复",
  visited: "回访",
  extension_requested: "申请延期",
  extension_decided: "延期审批",
  closed: "办结",
  review_requested: "请求复查",
  review_answered: "复查意见",
  recheck_requested: "请求复核",
  recheck_answered: "复核意见",
  alert: "告警",
  urgent: "紧急诉求",
  handed_over: "转接",
};

export const CLOCK_STATES = { open: "计时中", met: "已按时完成", overdue: "已超期", paused: "已暂停", cancelled: "已撤销" };
