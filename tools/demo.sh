#!/usr/bin/env bash
# `make demo`: a fresh demo workspace in ./demo, one record of every form (DOCX and PDF), an
# amendment, workflows, overdue reminders, searches, retention and a disposal, an old ledger
# imported, controlled blank forms issued, a void and a transfer, a login and an electronic signature in a normal
# workspace, and where the files are. Safe to run again: it starts from a new workspace each
# time.
set -euo pipefail
cd "$(dirname "$0")/.."
qrec() { .venv/bin/qrec "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

rm -rf demo
export QREC_WORKSPACE="$PWD/demo"
export QREC_TODAY=2026-11-23  # the demo's story is dated; later steps move time on from here
step "qrec init --demo demo"
qrec init --demo demo
step "qrec forms; qrec forms check"
qrec forms
qrec forms check

for form in contract_review customer_property complaint; do
  step "qrec --as lina new $form --data examples/$form.yaml"
  qrec --as lina new "$form" --data "examples/$form.yaml" --json \
    | .venv/bin/python -c 'import json,sys; r=json.load(sys.stdin); print(r["number"], "v%d" % r["version"], r["status"]); print("  " + r["files"]["docx"]); print("  " + str(r["files"]["pdf"]))'
done

step "qrec --as lina amend CC-xxxx-01 --set defective_quantity=15 --reason ..."
number=$(qrec show --json "$(ls demo/records/complaint)" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["number"])')
qrec --as lina amend "$number" --set defective_quantity=15 \
  --set countermeasure="改用加厚防静电珍珠棉与双层瓦楞纸箱；出货前增加跌落测试。" \
  --reason "客户复点数量为 15 块 (customer recounted: 15 boards)" | head -n 4
step "qrec diff $number"
qrec diff "$number"
step "qrec show $number (as zhangwei, no privacy role: contact details masked)"
qrec --as zhangwei show "$number" | head -n 12

step "Workflow: the complaint is investigated, assigned, decided and closed"
qrec --as zhaomin do "$number"
qrec --as zhaomin do "$number" investigate | head -n 2
qrec --as zhaomin do "$number" assign --set cause_analysis="纸箱强度不足，运输中受压" \
  --set responsible_department=production | head -n 2
qrec --as lina do "$number" propose --set disposition=credit --set disposition_amount=3000 | head -n 2
qrec --as huangjun do "$number" decide | head -n 2
qrec --as zhaomin do "$number" close --set customer_accepted=yes | head -n 2
step "qrec history $number (the record's story)"
qrec history "$number"

step "Contract review: submitted, signed by each department, approved"
contract=$(ls demo/records/contract_review)
qrec --as lina do "$contract" submit | head -n 2
for reviewer in lina chengang zhaomin sunli zhouqiang; do
  qrec --as "$reviewer" sign "$contract" feasible | head -n 2
done
qrec --as liuyang sign "$contract" conditional --comment "需加班两周；交期不可再提前" | head -n 2
qrec --as lina do "$contract" complete | head -n 2
qrec --as huangjun do "$contract" approve --set conclusion=accept | head -n 2

step "Two weeks later (QREC_TODAY=2026-12-10): overdue complaints and their reminders"
qrec --as lina new complaint --data examples/complaint.yaml | head -n 1
QREC_TODAY=2026-12-10 qrec overdue
QREC_TODAY=2026-12-10 qrec --as wangwen remind

step "qrec search: Chinese words, part of a company name, a code without its dashes"
qrec --as zhangwei search 包装破损
qrec --as zhangwei search 华东 --form contract_review
qrec --as zhangwei search PCB4451A
step "qrec search 138 0000 1234 (a phone number: found only with the privacy role, and logged)"
qrec --as zhangwei search "138 0000 1234"
qrec --as lina search "138 0000 1234"
step "qrec index check"
qrec index check

step "Register 台账 and the November complaint statistics 客户投诉案件统计表 (due by 12-10)"
qrec --as zhangwei register complaint --out demo/台账.xlsx  # contact details masked (***)
QREC_TODAY=2026-12-10 qrec --as zhaomin report complaints --month 2026-11 \
  --out demo/投诉统计-2026-11.pdf

step "Retention: what is kept; three years on (QREC_TODAY=2029-11-23) the closed complaint is due"
qrec retention status
export QREC_TODAY=2029-11-23
qrec retention due
qrec --as wangwen hold add "$number" --reason "客户诉讼，法务要求保全"
qrec --as wangwen dispose --due --reason "保存期满" # the held record is skipped
qrec --as wangwen hold release "$number" --reason "诉讼结束"
qrec --as wangwen dispose --due --dry-run --reason "保存期满，按程序销毁"
qrec --as wangwen dispose --due --reason "保存期满，按程序销毁"
step "qrec show $number (its tombstone) and qrec retention status"
qrec show "$number"
qrec retention status
export QREC_TODAY=2026-11-23

step "The document controller's year: an old ledger imported, controlled blank forms issued"
qrec --as wangwen import complaint examples/complaint_ledger.csv --dry-run
qrec --as wangwen import complaint examples/complaint_ledger.csv
qrec render --all  # the imported records' PDFs
qrec history CC-2509-01
qrec --as wangwen search TS-2025-031
qrec --as wangwen forms issue complaint --to 生产部 --copies 2
qrec forms issued

step "Void and transfer: a complaint registered twice is voided 作废; a closed old record is transferred 移交"
dup=$(qrec --as lina new complaint --data examples/complaint.yaml --json \
  | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["number"])')
qrec --as wangwen void "$dup" --reason "重复登记 registered twice"
qrec --as wangwen transfer CC-2509-01 --to "集团档案室 Group archive" \
  --reason "客户合同终止，移交集团档案 contract ended" --dry-run
qrec --as wangwen transfer CC-2509-01 --to "集团档案室 Group archive" \
  --reason "客户合同终止，移交集团档案 contract ended"
qrec show CC-2509-01
(cd demo/transfers/TL-2026-001 && sha256sum -c MANIFEST.sha256 | tail -n 2)

step "Identity in a normal workspace (demo/company, no QREC_TODAY): users, a login, a signature"
(
  unset QREC_TODAY
  export QREC_WORKSPACE="$PWD/demo/company" XDG_CONFIG_HOME="$PWD/demo/config"
  qrec init demo/company  # this OS account is bound to the document controller, wangwen
  qrec users
  # Passwords are asked for at a terminal; here they come on standard input, never as arguments.
  echo 'lina-demo-2026' | qrec users passwd lina --reason "新员工入职 new starter"
  echo 'lina-demo-2026' | qrec login lina
  echo 'a-wrong-password' | qrec login lina || true  # refused, counted and logged
  contract=$(qrec --as lina new contract_review --data examples/contract_review.yaml --json \
    | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["number"])')
  qrec --as lina do "$contract" submit | head -n 2
  echo 'lina-demo-2026' | qrec --as lina sign "$contract" feasible | head -n 2
  qrec --as lina history "$contract"
  pdf=$(qrec --as lina show "$contract" --json \
    | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["files"]["pdf"])')
  echo "the signed PDF: $pdf"
  .venv/bin/python -c 'import sys; from pypdf import PdfReader
text = " ".join(p.extract_text() for p in PdfReader(sys.argv[1]).pages)
print("  sign-off row on the PDF:", [line for line in text.splitlines() if "审核" in line][:1])' "$pdf"
  qrec --as lina logout
)

step "qrec verify, then an audit pack checked with sha256sum alone"
qrec --as wangwen verify
qrec --as wangwen audit-pack demo/audit-pack.zip
rm -rf demo/audit-pack && mkdir demo/audit-pack
.venv/bin/python -m zipfile -e demo/audit-pack.zip demo/audit-pack
(cd demo/audit-pack && sha256sum -c MANIFEST.sha256 | tail -n 3)

step "qrec render --all --dry-run (every version already has its PDF)"
qrec render --all --dry-run

step "Files: every version as DOCX and PDF"
find demo/records -name '*_v*' | sort

step "The web portal on this demo workspace 演示工作区的门户"
echo "  QREC_TODAY=2026-11-23 .venv/bin/qrec -w demo serve     然后打开 then open http://localhost:8080/"
echo "  登录 Log in as lina（有隐私权限 privacy role）, zhangwei（无隐私权限：*** 与遮蔽的 PDF"
echo "  no privacy role: *** and masked PDFs）或 or wangwen（文控 document controller）:"
echo "  演示工作区无需密码 a demonstration workspace asks no password."
