#!/usr/bin/env python3
"""Writes fixtures/who-can/*/case.json: who-can scenarios with their expected principal sets
(tests/who_can.rs; the answers themselves are insta snapshots in tests/snapshots/).
Regression cases under fixtures/who-can/regressions/ are written by hand and left alone."""
import json, os
A='111122223333'; B='444455556666'; C='555566667777'; D='777788889999'; M='999988887777'
KEY=f'arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab'
OTHER_KEY=f'arn:aws:kms:us-east-1:{A}:key/0000aaaa-00aa-00aa-00aa-000000000000'
OUT=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'who-can')
def root(a): return f'arn:aws:iam::{a}:root'
def role(a,n,p='/'): return f'arn:aws:iam::{a}:role{p}{n}'
def user(a,n): return f'arn:aws:iam::{a}:user/{n}'
def st(sid, eff, princ, act, res='*', cond=None, notp=False):
    s={'Sid':sid,'Effect':eff} if sid else {'Effect':eff}
    if princ is not None:
        s['NotPrincipal' if notp else 'Principal']= princ if princ=='*' else princ if isinstance(princ,dict) else {'AWS':princ}
    s['Action']=act
    if res is not None: s['Resource']=res
    if cond: s['Condition']=cond
    return s
def pol(*stmts): return {'Version':'2012-10-17','Statement':list(stmts)}
def ist(sid, eff, act, res=KEY, cond=None): return st(sid, eff, None, act, res, cond)
def authz(users=(), roles=(), groups=(), policies=()):
    return {'UserDetailList':list(users),'GroupDetailList':list(groups),'RoleDetailList':list(roles),'Policies':list(policies)}
# Roles trust an AWS service unless told otherwise, so that no role chain appears by accident.
SERVICE_TRUST=pol(st(None,'Allow',{'Service':'ec2.amazonaws.com'},'sts:AssumeRole',res=None))
def U(acct,name,inline=(),managed=(),groups=(),boundary=None,tags=None):
    u={'Path':'/','UserName':name,'UserId':'AIDA'+name.upper().ljust(17,'X')[:17],'Arn':user(acct,name),
       'UserPolicyList':[{'PolicyName':f'p{i}','PolicyDocument':d} for i,d in enumerate(inline)],
       'GroupList':list(groups),'AttachedManagedPolicies':[{'PolicyName':m.split('/')[-1],'PolicyArn':m} for m in managed],
       'Tags':[{'Key':k,'Value':v} for k,v in (tags or {}).items()]}
    if boundary: u['PermissionsBoundary']={'PermissionsBoundaryType':'Policy','PermissionsBoundaryArn':boundary}
    return u
def R(acct,name,inline=(),managed=(),boundary=None,tags=None,trust=None,path='/'):
    r={'Path':path,'RoleName':name,'RoleId':'AROA'+name.upper().ljust(17,'X')[:17],'Arn':role(acct,name,path),
       'AssumeRolePolicyDocument': trust or SERVICE_TRUST,
       'RolePolicyList':[{'PolicyName':f'p{i}','PolicyDocument':d} for i,d in enumerate(inline)],
       'AttachedManagedPolicies':[{'PolicyName':m.split('/')[-1],'PolicyArn':m} for m in managed],
       'Tags':[{'Key':k,'Value':v} for k,v in (tags or {}).items()]}
    if boundary: r['PermissionsBoundary']={'PermissionsBoundaryType':'Policy','PermissionsBoundaryArn':boundary}
    return r
def MP(acct,name,doc):
    arn=f'arn:aws:iam::{acct}:policy/{name}'
    return {'PolicyName':name,'Arn':arn,'Path':'/','DefaultVersionId':'v1','PolicyVersionList':[{'Document':doc,'VersionId':'v1','IsDefaultVersion':True}]}
def q(action, principals, unconditional=None, transitive=None, direct=False, dnf=None):
    e={'principals':sorted(principals)}
    if unconditional is not None: e['unconditional']=sorted(unconditional)
    if transitive is not None: e['transitive']=sorted(transitive)
    r={'action':action,'direct':direct,'expect':e}
    if dnf: r['dnf_contexts']=dnf
    return r
def ec(**pairs): return {'context':pairs}
def cond(**kv): return {'conditions':{k.replace('__',':'):v for k,v in kv.items()}}
def both(ctx, **kv): return {'context':ctx,'conditions':{k.replace('__',':'):v for k,v in kv.items()}}
cases={}
def case(name, description, documents, queries, files=(), options=None):
    c={'description':description}
    if files: c['files']=list(files)
    if documents: c['documents']=documents
    c['options']=options or {'key_arn':KEY}
    c['queries']=queries
    cases[name]=c
EX='../../examples/'
S3='s3.us-east-1.amazonaws.com'
DEFAULT=pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'))

case('iam-delegation','semantics §2.4 points 1-3 and 5, §2.6 rows 1-4: root delegation lets IAM allow; principals without an IAM allow are out',
 {'key-policy.json':DEFAULT,
  'iam.json':authz(
    users=[U(A,'alice',inline=[pol(ist('UseKey','Allow','kms:Decrypt'))]),U(A,'bob'),
           U(A,'carol',inline=[pol(ist('OtherKey','Allow','kms:*',res=OTHER_KEY))])],
    roles=[R(A,'App',inline=[pol(ist('Crypto','Allow',['kms:Decrypt','kms:Encrypt'],res='*'))]),
           R(A,'Writer',inline=[pol(ist('EncryptOnly','Allow','kms:Encrypt'))]),
           R(A,'Prod',inline=[pol(ist('ProdOnly','Allow','kms:Decrypt',cond={'StringEquals':{'kms:EncryptionContext:stage':'prod'}}))])])},
 [q('kms:Decrypt',[user(A,'alice'),role(A,'App'),role(A,'Prod'),root(A)],unconditional=[user(A,'alice'),role(A,'App'),root(A)],transitive=[]),
  q('kms:Encrypt',[role(A,'App'),role(A,'Writer'),root(A)],unconditional=[role(A,'App'),role(A,'Writer'),root(A)])])

case('key-policy-direct','semantics §2.4 point 2 and 8, §2.6 rows 3-4: principals named in the key policy need no IAM; IAM without delegation is inert',
 {'key-policy.json':pol(
    st('DirectUser','Allow',user(A,'carol'),'kms:Decrypt'),
    st('AppRole','Allow',role(A,'App'),['kms:Decrypt','kms:Encrypt']),
    st('NamedSession','Allow',f'arn:aws:sts::{A}:assumed-role/Batch/nightly','kms:Decrypt'),
    st('CloudTrail','Allow',{'Service':'cloudtrail.amazonaws.com'},'kms:GenerateDataKey*')),
  'iam.json':authz(users=[U(A,'carol'),U(A,'dave',inline=[pol(ist('All','Allow','kms:*',res='*'))])],roles=[R(A,'App'),R(A,'Batch')])},
 [q('kms:Decrypt',[user(A,'carol'),role(A,'App'),f'arn:aws:sts::{A}:assumed-role/Batch/nightly'],unconditional=[user(A,'carol'),role(A,'App'),f'arn:aws:sts::{A}:assumed-role/Batch/nightly']),
  q('kms:GenerateDataKey',['cloudtrail.amazonaws.com'],unconditional=['cloudtrail.amazonaws.com']),
  q('kms:PutKeyPolicy',[])])

case('cross-account','semantics §2.4 points 4 and 7, §2.6 rows 6-9: cross-account access needs both sides; an account whose IAM is not in the inputs is an abstract `account` entry',
 {'key-policy.json':pol(
    st('Enable IAM User Permissions','Allow',root(A),'kms:*'),
    st('PartnerAccount','Allow',root(B),['kms:Decrypt','kms:DescribeKey']),
    st('PartnerDirect','Allow',role(B,'Direct'),'kms:Encrypt'),
    st('VendorAccount','Allow',root(C),'kms:Decrypt')),
  'iam.json':authz(users=[U(A,'owner')]),
  'partner-iam.json':authz(
    users=[U(B,'wronkey',inline=[pol(ist('Other','Allow','kms:Decrypt',res=OTHER_KEY))])],
    roles=[R(B,'Reader',inline=[pol(ist('Use','Allow',['kms:Decrypt','kms:Encrypt']))]),R(B,'NoIam'),
           R(B,'Wide',inline=[pol(ist('All','Allow','kms:*',res='*'))]),R(B,'Direct',inline=[pol(ist('Enc','Allow','kms:Encrypt'))]),
           R(B,'DirectNoIam')])},
 [q('kms:Decrypt',[root(A),root(B),role(B,'Reader'),role(B,'Wide'),root(C)],unconditional=[root(A),root(B),role(B,'Reader'),role(B,'Wide'),root(C)]),
  q('kms:Encrypt',[root(A),role(B,'Direct')]),
  q('kms:ScheduleKeyDeletion',[root(A)])])

ORG='o-a1b2c3d4e5'
case('org-scoped-star','semantics §4.3 aws:PrincipalOrgID, §2.6 rows 5 and 10: `*` limited to the organization is not public; members in, outsiders out, partner only through S3',
 {'iam.json':authz(roles=[R(A,'App')]),
  'member-iam.json':authz(roles=[R(C,'MemberNoIam'),R(C,'Member',inline=[pol(ist('Use','Allow','kms:Decrypt'))])]),
  'outsider-iam.json':authz(roles=[R(D,'Outsider',inline=[pol(ist('Use','Allow','kms:*',res='*'))])]),
  'partner-iam.json':authz(roles=[R(B,'S3Reader',inline=[pol(ist('Use','Allow','kms:Decrypt'))])])},
 [q('kms:Decrypt',[root(A),role(A,'App'),root(C),role(C,'Member'),root(B),role(B,'S3Reader')],
    unconditional=[root(A),role(A,'App'),root(C),role(C,'Member')],
    dnf=[ec(),cond(kms__ViaService=S3),cond(kms__ViaService='ec2.us-east-1.amazonaws.com')])],
 files=[EX+'key-policy-cross-account-org.json'], options={'key_arn':KEY,'org_id':ORG,'org_accounts':[A,C]})

case('via-service-caller-account','semantics §4.2 kms:ViaService and kms:CallerAccount, §4.6: an AWS managed key policy lets every principal of the account in, only through the service',
 {'key-policy.json':pol(
    st('Allow access through S3 for all principals in the account that are authorized to use S3','Allow',{'AWS':'*'},
       ['kms:Encrypt','kms:Decrypt','kms:ReEncrypt*','kms:GenerateDataKey*','kms:DescribeKey'],
       cond={'StringEquals':{'kms:CallerAccount':A,'kms:ViaService':S3}}),
    st('Allow direct access to key metadata to the account','Allow',root(A),['kms:Describe*','kms:Get*','kms:List*'])),
  'iam.json':authz(users=[U(A,'u1'),U(A,'u2',inline=[pol(ist('Describe','Allow','kms:DescribeKey'))])],roles=[R(A,'App')]),
  'partner-iam.json':authz(roles=[R(B,'Partner',inline=[pol(ist('All','Allow','kms:*',res='*'))])])},
 [q('kms:Decrypt',[user(A,'u1'),user(A,'u2'),role(A,'App'),root(A)],unconditional=[],
    dnf=[ec(),cond(kms__ViaService=S3),cond(kms__ViaService='ec2.us-east-1.amazonaws.com')]),
  q('kms:DescribeKey',[user(A,'u1'),user(A,'u2'),role(A,'App'),root(A)],unconditional=[user(A,'u2'),root(A)])])

case('encryption-context','semantics §4.4 and §3.5: the key part of kms:EncryptionContext:<k> is case-insensitive, values follow the operator; kms:EncryptionContextKeys compares keys exactly; ForAllValues passes an empty context',
 {'key-policy.json':pol(
    st('LowerKey','Allow',role(A,'LowerKey'),'kms:Decrypt',cond={'StringEquals':{'kms:EncryptionContext:appname':'Orders'}}),
    st('ExactKey','Allow',role(A,'ExactKey'),'kms:Decrypt',cond={'StringEquals':{'kms:EncryptionContext:AppName':'Orders'},'ForAnyValue:StringEquals':{'kms:EncryptionContextKeys':'AppName'}}),
    st('IgnoreCaseValue','Allow',role(A,'Tenant'),'kms:Decrypt',cond={'StringEqualsIgnoreCase':{'kms:EncryptionContext:tenant':'ACME'}}),
    st('OnlyListedKeys','Allow',role(A,'AllValues'),'kms:Decrypt',cond={'ForAllValues:StringEquals':{'kms:EncryptionContextKeys':['AppName','OrderId']}}),
    st('NeedsContext','Allow',role(A,'AnyContext'),'kms:Decrypt',cond={'Null':{'kms:EncryptionContextKeys':'false'}}),
    st('Impossible','Allow',role(A,'Never'),'kms:Decrypt',cond={'StringEquals':{'kms:EncryptionContext:a':'x'},'Null':{'kms:EncryptionContext:a':'true'}})),
  'iam.json':authz(roles=[R(A,n) for n in ['LowerKey','ExactKey','Tenant','AllValues','AnyContext','Never']])},
 [q('kms:Decrypt',[role(A,n) for n in ['LowerKey','ExactKey','Tenant','AllValues','AnyContext']],unconditional=[],
    dnf=[ec(),ec(AppName='Orders'),ec(appname='Orders'),ec(AppName='orders'),ec(APPNAME='Orders'),ec(AppName='Orders',OrderId='1'),
         ec(AppName='Orders',Extra='x'),ec(tenant='acme'),ec(Tenant='ACME'),ec(tenant='other'),ec(a='x')])])

case('deny-carve-out','semantics §2.3 step 2, §3.1 and §3.2: a Deny with StringNotEquals aws:SourceVpce leaves access only through the endpoint; the DNF carries the negated condition and the witness the endpoint',
 {'key-policy.json':pol(
    st('Enable IAM User Permissions','Allow',root(A),'kms:*'),
    st('App','Allow',role(A,'App'),['kms:Decrypt','kms:Encrypt']),
    st('DecryptOnlyThroughTheEndpoint','Deny','*','kms:Decrypt',cond={'StringNotEquals':{'aws:SourceVpce':'vpce-1a2b3c4d'}}),
    st('NoEncryptForAuditors','Deny',role(A,'Auditor'),'kms:Encrypt')),
  'iam.json':authz(users=[U(A,'alice',inline=[pol(ist('Use','Allow',['kms:Decrypt','kms:Encrypt']))])],
                   roles=[R(A,'App'),R(A,'Auditor',inline=[pol(ist('Use','Allow','kms:*',res='*'))])])},
 [q('kms:Decrypt',[root(A),user(A,'alice'),role(A,'App'),role(A,'Auditor')],unconditional=[],
    dnf=[ec(),cond(aws__SourceVpce='vpce-1a2b3c4d'),cond(aws__SourceVpce='vpce-other'),cond(aws__SourceVpce='VPCE-1A2B3C4D')]),
  q('kms:Encrypt',[root(A),user(A,'alice'),role(A,'App'),role(A,'Auditor')],unconditional=[root(A),user(A,'alice'),role(A,'App'),role(A,'Auditor')],transitive=[role(A,'Auditor')])])

ORGOPTS={'key_arn':KEY,'org_id':ORG,'org_accounts':[A,C]}
case('scp-deny','semantics §2.8 and examples F: an SCP Deny with ArnNotLike aws:PrincipalArn leaves only KeyAdmin able to delete or re-policy the key, root user included',
 {'key-policy.json':DEFAULT,
  'iam.json':authz(roles=[R(A,'KeyAdmin',inline=[pol(ist('All','Allow','kms:*',res='*'))]),R(A,'Ops',inline=[pol(ist('All','Allow','kms:*',res='*'))])])},
 [q('kms:ScheduleKeyDeletion',[role(A,'KeyAdmin')],unconditional=[role(A,'KeyAdmin')]),
  q('kms:PutKeyPolicy',[role(A,'KeyAdmin')],unconditional=[role(A,'KeyAdmin')]),
  q('kms:Decrypt',[role(A,'KeyAdmin'),role(A,'Ops'),root(A)],unconditional=[role(A,'KeyAdmin'),role(A,'Ops'),root(A)],transitive=[])],
 files=[EX+'organizations-hierarchy.json',EX+'organizations-describe-policy-scp.json'], options=ORGOPTS)

def scp_doc(*stmts): return json.dumps(pol(*stmts))
SCP_CT='SERVICE_CONTROL_POLICY'
def attached(*ids): return {'Policies':[{'Id':i,'Type':SCP_CT,'AwsManaged':i=='p-FullAWSAccess'} for i in ids]}
case('scp-conditions','semantics §2.8 and §2.3 step 3: SCP statements with conditions on request keys; an SCP governs only principals of member accounts (not the management account, not outsiders), and an SCP Allow with a condition bounds access at its level',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'),st('Others','Allow',[root(B),root(C),root(M)],'kms:Decrypt')),
  'iam.json':authz(roles=[R(A,'App',inline=[pol(ist('Use','Allow','kms:Decrypt'))])]),
  'member-iam.json':authz(roles=[R(C,'Member',inline=[pol(ist('Use','Allow','kms:Decrypt'))])]),
  'management-iam.json':authz(roles=[R(M,'Mgmt',inline=[pol(ist('Use','Allow','kms:Decrypt',cond={'StringEquals':{'kms:ViaService':S3}}))])]),
  'partner-iam.json':authz(roles=[R(B,'Partner',inline=[pol(ist('Use','Allow','kms:Decrypt',cond={'StringEquals':{'kms:ViaService':S3}}))])]),
  'org.json':{'describe-organization':{'Organization':{'Id':ORG,'MasterAccountId':M}},
              'list-roots':{'Roots':[{'Id':'r-ab12','PolicyTypes':[{'Type':SCP_CT,'Status':'ENABLED'}]}]},
              'list-parents --child-id '+A:{'Parents':[{'Id':'ou-ab12-11111111','Type':'ORGANIZATIONAL_UNIT'}]},
              'list-parents --child-id '+C:{'Parents':[{'Id':'ou-ab12-11111111','Type':'ORGANIZATIONAL_UNIT'}]},
              'list-parents --child-id ou-ab12-11111111':{'Parents':[{'Id':'r-ab12','Type':'ROOT'}]},
              'list-policies-for-target --target-id r-ab12 --filter '+SCP_CT:attached('p-FullAWSAccess'),
              'list-policies-for-target --target-id ou-ab12-11111111 --filter '+SCP_CT:attached('p-FullAWSAccess','p-vpce'),
              'list-policies-for-target --target-id '+A+' --filter '+SCP_CT:attached('p-FullAWSAccess'),
              'list-policies-for-target --target-id '+C+' --filter '+SCP_CT:attached('p-via-s3'),
              'describe-policy --policy-id p-FullAWSAccess':{'Policy':{'PolicySummary':{'Id':'p-FullAWSAccess','Name':'FullAWSAccess','Type':SCP_CT,'AwsManaged':True},
                  'Content':scp_doc(st(None,'Allow',None,'*'))}},
              'describe-policy --policy-id p-vpce':{'Policy':{'PolicySummary':{'Id':'p-vpce','Name':'DecryptThroughTheEndpoint','Type':SCP_CT,'AwsManaged':False},
                  'Content':scp_doc(st('DecryptThroughTheEndpoint','Deny',None,'kms:Decrypt',cond={'StringNotEquals':{'aws:SourceVpce':'vpce-org'}}))}},
              'describe-policy --policy-id p-via-s3':{'Policy':{'PolicySummary':{'Id':'p-via-s3','Name':'KmsOnlyThroughS3','Type':SCP_CT,'AwsManaged':False},
                  'Content':scp_doc(st('KmsOnlyThroughS3','Allow',None,'kms:*',cond={'StringEquals':{'kms:ViaService':S3}}),st('Rest','Allow',None,['s3:*','sts:*']))}}}},
 [q('kms:Decrypt',[root(A),role(A,'App'),root(C),role(C,'Member'),root(M),role(M,'Mgmt'),root(B),role(B,'Partner')],unconditional=[root(M),root(B)],
    dnf=[ec(),cond(aws__SourceVpce='vpce-org'),cond(aws__SourceVpce='vpce-other'),cond(kms__ViaService=S3),both({},aws__SourceVpce='vpce-org',kms__ViaService=S3),
         cond(kms__ViaService='ec2.us-east-1.amazonaws.com')])],
 options={'key_arn':KEY,'org_id':ORG,'org_accounts':[A,C]})

NOKMS=f'arn:aws:iam::{A}:policy/NoKms'
ENCONLY=f'arn:aws:iam::{A}:policy/EncryptOnly'
case('permissions-boundary','semantics §2.7: a boundary limits the IAM path and a key policy naming the role ARN, not a key policy naming the user',
 {'key-policy.json':pol(
    st('Enable IAM User Permissions','Allow',root(A),'kms:*'),
    st('UserNamed','Allow',user(A,'bob'),'kms:Decrypt'),
    st('RoleNamed','Allow',role(A,'Bounded'),'kms:Decrypt')),
  'iam.json':authz(
    users=[U(A,'bob',boundary=NOKMS)],
    roles=[R(A,'Bounded',boundary=NOKMS),
           R(A,'Limited',inline=[pol(ist('Use','Allow',['kms:Decrypt','kms:Encrypt']))],boundary=ENCONLY),
           R(A,'Free',inline=[pol(ist('Use','Allow',['kms:Decrypt','kms:Encrypt']))])],
    policies=[MP(A,'NoKms',pol(ist('S3Only','Allow','s3:*',res='*'))),MP(A,'EncryptOnly',pol(ist('AllowEncrypt','Allow','kms:Encrypt',res='*')))])},
 [q('kms:Decrypt',[user(A,'bob'),role(A,'Free'),root(A)]),
  q('kms:Encrypt',[role(A,'Limited'),role(A,'Free'),root(A)])])

case('grants','semantics §6.3-§6.4 and §6.6: grants with EncryptionContextSubset / EncryptionContextEquals constraints (exact keys and values), a cross-account grantee and a service grantee',
 {'iam.json':authz(users=[U(A,'alice'),U(A,'bob')],roles=[R(A,'OrdersApp'),R(A,'KeyAdmin'),R(A,'OrdersBatch')])},
 [q('kms:Decrypt',[root(A),user(A,'alice'),role(A,'KeyAdmin'),role(A,'OrdersApp'),role(A,'OrdersBatch'),role(B,'Analytics'),'dynamodb.us-east-1.amazonaws.com'],
    unconditional=[root(A),role(A,'KeyAdmin')],transitive=[role(A,'KeyAdmin')],
    dnf=[ec(),ec(AppName='Orders'),ec(appname='Orders'),ec(AppName='Orders',OrderId='1'),ec(AppName='Orders',Extra='x'),
         ec(Department='IT'),ec(department='IT'),ec(Department='IT',X='y'),ec(Department='it'),
         ec(**{'aws:dynamodb:tableName':'Orders','aws:dynamodb:subscriberId':A}),
         ec(**{'aws:dynamodb:tableName':'Orders','aws:dynamodb:subscriberId':A,'extra':'1'}),
         ec(**{'aws:dynamodb:tablename':'Orders','aws:dynamodb:subscriberId':A})]),
  q('kms:Decrypt',[root(A),user(A,'alice'),role(A,'OrdersApp'),role(A,'OrdersBatch'),role(B,'Analytics'),'dynamodb.us-east-1.amazonaws.com'],direct=True),
  q('kms:DescribeKey',[root(A),role(A,'KeyAdmin'),role(A,'OrdersApp'),role(A,'OrdersBatch'),'dynamodb.us-east-1.amazonaws.com'])],
 files=[EX+'key-policy-enable-iam-and-key-users.json',EX+'list-grants.json'])

def trust(*principals, cond=None): return pol(st(None,'Allow',{'AWS':list(principals)},'sts:AssumeRole',res=None,cond=cond))
def assume(*targets): return pol(ist('Assume','Allow','sts:AssumeRole',res=list(targets)))
case('role-chain','sts:AssumeRole chains through trust policies (the trust policy decides like a key policy, semantics §2.4; its statements have no Resource, §1.2): user dev → role A → role B → key',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'),st('RoleB','Allow',role(A,'B'),'kms:Decrypt')),
  'iam.json':authz(
    users=[U(A,'dev',inline=[assume(role(A,'A'))]),U(A,'eve',inline=[assume(role(A,'B'))])],
    roles=[R(A,'A',inline=[assume(role(A,'B'))],trust=trust(user(A,'dev'))),
           R(A,'B',trust=trust(role(A,'A'))),
           R(A,'Unrelated',trust=trust(user(A,'eve')))])},
 [q('kms:Decrypt',[root(A),role(A,'B'),role(A,'A'),user(A,'dev')],transitive=[role(A,'A'),user(A,'dev')]),
  q('kms:Decrypt',[root(A),role(A,'B')],direct=True)])

case('escalation','semantics §6.4 and §5.2: kms:CreateGrant lets a principal grant itself an operation; kms:PutKeyPolicy lets it rewrite the policy; denies still apply after the escalation (§6.3 item 5: a Deny overrides grants; an IAM Deny survives any key policy, §2.4 point 6)',
 {'key-policy.json':pol(
    st('Reader','Allow',role(A,'Reader'),'kms:Decrypt'),
    st('GrantMaker','Allow',role(A,'GrantMaker'),'kms:CreateGrant'),
    st('EncryptGrantsOnly','Allow',role(A,'EncryptGranter'),'kms:CreateGrant',cond={'ForAllValues:StringEquals':{'kms:GrantOperations':['Encrypt','GenerateDataKey']}}),
    st('GrantsForAWSResources','Allow',role(A,'AwsOnly'),'kms:CreateGrant',cond={'Bool':{'kms:GrantIsForAWSResource':'true'}}),
    st('PolicyAdmin','Allow',role(A,'PolicyAdmin'),['kms:PutKeyPolicy','kms:GetKeyPolicy']),
    st('DeniedGranter','Allow',role(A,'DeniedGranter'),'kms:CreateGrant'),
    st('DeniedAdmin','Allow',role(A,'DeniedAdmin'),'kms:PutKeyPolicy'),
    st('NoDecryptForDeniedGranter','Deny',role(A,'DeniedGranter'),'kms:Decrypt')),
  'iam.json':authz(roles=[R(A,n) for n in ['Reader','GrantMaker','EncryptGranter','AwsOnly','PolicyAdmin','DeniedGranter']]+
                         [R(A,'DeniedAdmin',inline=[pol(ist('NoDecrypt','Deny','kms:Decrypt',res='*'))])])},
 [q('kms:Decrypt',[role(A,'Reader'),role(A,'GrantMaker'),role(A,'PolicyAdmin')],transitive=[role(A,'GrantMaker'),role(A,'PolicyAdmin')]),
  q('kms:CreateGrant',[role(A,'GrantMaker'),role(A,'EncryptGranter'),role(A,'AwsOnly'),role(A,'DeniedGranter'),role(A,'PolicyAdmin'),role(A,'DeniedAdmin')],
    transitive=[role(A,'PolicyAdmin'),role(A,'DeniedAdmin')]),
  q('kms:Decrypt',[role(A,'Reader')],direct=True),
  q('kms:Encrypt',[role(A,'GrantMaker'),role(A,'EncryptGranter'),role(A,'PolicyAdmin'),role(A,'DeniedGranter'),role(A,'DeniedAdmin')],
    transitive=[role(A,'GrantMaker'),role(A,'EncryptGranter'),role(A,'PolicyAdmin'),role(A,'DeniedGranter'),role(A,'DeniedAdmin')]),
  q('kms:ScheduleKeyDeletion',[role(A,'PolicyAdmin'),role(A,'DeniedAdmin')],transitive=[role(A,'PolicyAdmin'),role(A,'DeniedAdmin')])])

case('public-star','semantics §2.6 rows 5, 8 and 10: an unconditional `*` is public: every same-account principal directly, every other account whose IAM allows (`*` stands for accounts outside the inputs)',
 {'key-policy.json':pol(st('Anyone','Allow','*','kms:Decrypt')),
  'iam.json':authz(users=[U(A,'u1')],roles=[R(A,'App')]),
  'partner-iam.json':authz(roles=[R(B,'WithIam',inline=[pol(ist('Use','Allow','kms:Decrypt'))]),R(B,'NoIam')])},
 [q('kms:Decrypt',['*',root(A),user(A,'u1'),role(A,'App'),root(B),role(B,'WithIam')],unconditional=['*',root(A),user(A,'u1'),role(A,'App'),root(B),role(B,'WithIam')]),
  q('kms:Encrypt',[])])

ADMIN='arn:aws:iam::aws:policy/AdministratorAccess'
case('lockout','semantics §5.2: a key whose policy denies kms:PutKeyPolicy to everyone is locked out; AdministratorAccess is inert without delegation (§2.6 row 4)',
 {'iam.json':authz(roles=[R(A,'OrdersApp'),R(A,'Operator'),R(A,'Admin',managed=[ADMIN])],
   policies=[{'PolicyName':'AdministratorAccess','Arn':ADMIN,'Path':'/','DefaultVersionId':'v1','PolicyVersionList':[{'Document':pol(st(None,'Allow',None,'*')),'VersionId':'v1','IsDefaultVersion':True}]}])},
 [q('kms:PutKeyPolicy',[]),
  q('kms:Decrypt',[role(A,'OrdersApp')],unconditional=[role(A,'OrdersApp')]),
  q('kms:ScheduleKeyDeletion',[role(A,'Operator')])],
 files=[EX+'key-policy-locked-out.json'])

for name, c in cases.items():
    d=os.path.join(OUT,name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d,'case.json'),'w') as f:
        json.dump(c,f,indent=2,ensure_ascii=False); f.write('\n')
print(f'{len(cases)} scenarios')
