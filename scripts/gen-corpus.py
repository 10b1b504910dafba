#!/usr/bin/env python3
"""Writes fixtures/corpus/*/case.json: the decision corpus (each request cites semantics.md)."""
import json, os
A='111122223333'; B='444455556666'; C='555566667777'; D='777788889999'; M='999988887777'
KEY=f'arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab'
OUT=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'corpus')
def root(a): return f'arn:aws:iam::{a}:root'
def role(a,n,p='/'): return f'arn:aws:iam::{a}:role{p}{n}'
def sess(a,n,s='s1'): return f'arn:aws:sts::{a}:assumed-role/{n}/{s}'
def user(a,n): return f'arn:aws:iam::{a}:user/{n}'
def st(sid, eff, princ, act, res='*', cond=None, notp=False, nota=False, notr=False):
    s={'Sid':sid,'Effect':eff}
    if princ is not None:
        s['NotPrincipal' if notp else 'Principal']= princ if princ=='*' else {'AWS':princ} if not (isinstance(princ,dict)) else princ
    s['NotAction' if nota else 'Action']=act
    if res is not None: s['NotResource' if notr else 'Resource']=res
    if cond: s['Condition']=cond
    return s
def pol(*stmts, version='2012-10-17'):
    d={}
    if version: d['Version']=version
    d['Statement']=list(stmts)
    return d
def ident(*stmts, version='2012-10-17'): return pol(*stmts, version=version)
def ist(sid, eff, act, res=KEY, cond=None, nota=False, notr=False):
    return st(sid, eff, None, act, res, cond, nota=nota, notr=notr)
def authz(users=(), roles=(), groups=(), policies=()):
    return {'UserDetailList':list(users),'GroupDetailList':list(groups),'RoleDetailList':list(roles),'Policies':list(policies)}
def U(acct,name,inline=(),managed=(),groups=(),boundary=None,tags=None):
    u={'Path':'/','UserName':name,'UserId':'AIDA'+name.upper().ljust(17,'X')[:17],'Arn':user(acct,name),
       'UserPolicyList':[{'PolicyName':f'p{i}','PolicyDocument':d} for i,d in enumerate(inline)],
       'GroupList':list(groups),'AttachedManagedPolicies':[{'PolicyName':m.split('/')[-1],'PolicyArn':m} for m in managed],
       'Tags':[{'Key':k,'Value':v} for k,v in (tags or {}).items()]}
    if boundary: u['PermissionsBoundary']={'PermissionsBoundaryType':'Policy','PermissionsBoundaryArn':boundary}
    return u
def R(acct,name,inline=(),managed=(),boundary=None,tags=None,trust=None,path='/'):
    r={'Path':path,'RoleName':name,'RoleId':'AROA'+name.upper().ljust(17,'X')[:17],'Arn':role(acct,name,path),
       'AssumeRolePolicyDocument': trust or pol(st(None,'Allow',{'AWS':root(acct)},'sts:AssumeRole',res=None)),
       'RolePolicyList':[{'PolicyName':f'p{i}','PolicyDocument':d} for i,d in enumerate(inline)],
       'AttachedManagedPolicies':[{'PolicyName':m.split('/')[-1],'PolicyArn':m} for m in managed],
       'Tags':[{'Key':k,'Value':v} for k,v in (tags or {}).items()]}
    if r['AssumeRolePolicyDocument']['Statement'][0].get('Sid') is None: r['AssumeRolePolicyDocument']['Statement'][0].pop('Sid',None)
    if boundary: r['PermissionsBoundary']={'PermissionsBoundaryType':'Policy','PermissionsBoundaryArn':boundary}
    return r
def MP(acct,name,doc):
    arn=f'arn:aws:iam::{acct}:policy/{name}'
    return {'PolicyName':name,'Arn':arn,'Path':'/','DefaultVersionId':'v1','PolicyVersionList':[{'Document':doc,'VersionId':'v1','IsDefaultVersion':True}]}
def G(acct,name,inline=()):
    return {'Path':'/','GroupName':name,'Arn':f'arn:aws:iam::{acct}:group/{name}','GroupPolicyList':[{'PolicyName':f'g{i}','PolicyDocument':d} for i,d in enumerate(inline)],'AttachedManagedPolicies':[]}
def rq(cite, desc, principal, action, decision, context=None, conditions=None, reasons=None, key=None, grant_id=None):
    r={'cite':cite,'description':desc,'principal':principal,'action':action,'decision':decision}
    if context is not None: r['context']=context
    if conditions is not None: r['conditions']=conditions
    if reasons is not None: r['reasons']=reasons
    if key: r['key']=key
    if grant_id: r['grant_id']=grant_id
    return r
def snapshot_key_files(acct, kp):
    return {f'{acct}/kms/us-east-1/keys/1234abcd-12ab-34cd-56ef-1234567890ab/key-policy.json': {'Policy': json.dumps(kp, indent=2), 'PolicyName':'default'}}
cases={}
def case(name, description, documents, requests, files=(), options=None):
    c={'description':description}
    if files: c['files']=list(files)
    if documents: c['documents']=documents
    c['options']=options or {'key_arn':KEY}
    c['requests']=requests
    cases[name]=c

DEFAULT=pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'))
# 1
case('same-account-delegation','semantics §2.6 rows 1-3: same account, root delegation needs an IAM allow; a directly named principal needs none',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'), st('DirectUser','Allow',user(A,'direct'),['kms:Decrypt'])),
  'iam.json':authz(users=[U(A,'withiam',inline=[ident(ist('UseKey','Allow','kms:Decrypt'))]),U(A,'noiam'),U(A,'direct')])},
 [rq('§2.6 row 1','root delegation + IAM allow',user(A,'withiam'),'kms:Decrypt','Allow',reasons=['key-policy#Enable IAM User Permissions','identity-policy#UseKey']),
  rq('§2.6 row 2','root delegation, no IAM allow',user(A,'noiam'),'kms:Decrypt','ImplicitDeny'),
  rq('§2.6 row 3','key policy names the user; no IAM policy needed',user(A,'direct'),'kms:Decrypt','Allow',reasons=['key-policy#DirectUser']),
  rq('§2.6 row 1','IAM allows Decrypt only; Encrypt is not allowed',user(A,'withiam'),'kms:Encrypt','ImplicitDeny'),
  rq('§2.4 point 5','direct statement covers only Decrypt; Encrypt falls back to delegation without IAM',user(A,'direct'),'kms:Encrypt','ImplicitDeny')])
# 2
case('iam-without-delegation','semantics §2.6 row 4 and §2.4 point 6: IAM allows are inert without key-policy delegation; IAM denies always work',
 {'key-policy.json':pol(st('Admins','Allow',role(A,'Admin'),'kms:*'), st('App','Allow',user(A,'app'),['kms:Decrypt','kms:Encrypt'])),
  'iam.json':authz(users=[U(A,'power',inline=[ident(ist('All','Allow','kms:*','*'))]),U(A,'app',inline=[ident(ist('NoDecrypt','Deny','kms:Decrypt','*'))])],roles=[R(A,'Admin')])},
 [rq('§2.6 row 4','IAM allows kms:* but the key policy neither names the user nor delegates',user(A,'power'),'kms:Decrypt','ImplicitDeny'),
  rq('§2.4 point 6','IAM explicit deny wins over a key policy that names the user',user(A,'app'),'kms:Decrypt','ExplicitDeny',reasons=['identity-policy#NoDecrypt']),
  rq('§2.6 row 3','same user, an action the IAM deny does not cover',user(A,'app'),'kms:Encrypt','Allow',reasons=['key-policy#App']),
  rq('§2.5.2','role ARN in Principal matches any session of the role',sess(A,'Admin','anything'),'kms:ScheduleKeyDeletion','Allow'),
  rq('§2.6 row 4','IAM power user cannot administer either',user(A,'power'),'kms:PutKeyPolicy','ImplicitDeny')])
# 3
case('star-principal','semantics §2.6 rows 5 and 10: `*` is a direct match in the same account; cross-account callers still need IAM',
 {'key-policy.json':pol(st('Anyone','Allow','*',['kms:Decrypt','kms:DescribeKey'])),
  'iam.json':authz(users=[U(A,'u1')]),
  'partner-iam.json':authz(roles=[R(B,'WithIam',inline=[ident(ist('Use','Allow','kms:Decrypt'))]),R(B,'NoIam')])},
 [rq('§2.6 row 5','same account, Principal * and no IAM',user(A,'u1'),'kms:Decrypt','Allow',reasons=['key-policy#Anyone']),
  rq('§2.6 row 10','cross-account with IAM allow',sess(B,'WithIam'),'kms:Decrypt','Allow',reasons=['key-policy#Anyone','identity-policy#Use']),
  rq('§2.6 row 8','cross-account without IAM allow',sess(B,'NoIam'),'kms:Decrypt','ImplicitDeny'),
  rq('§2.6 row 10','cross-account, IAM does not cover DescribeKey',sess(B,'WithIam'),'kms:DescribeKey','ImplicitDeny'),
  rq('§1.3','service principal matched by *',"cloudtrail.amazonaws.com",'kms:Decrypt','Allow')])
# 4
case('cross-account-both-sides','semantics §2.6 rows 6-9: cross-account access needs the key policy and the caller-side IAM allow',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'),st('PartnerAccount','Allow',root(B),['kms:Decrypt','kms:Encrypt']),st('PartnerRole','Allow',role(B,'Direct'),'kms:GenerateDataKey')),
  'partner-iam.json':authz(roles=[R(B,'Reader',inline=[ident(ist('Use','Allow',['kms:Decrypt','kms:GenerateDataKey']))]),R(B,'NoIam'),R(B,'Direct',inline=[ident(ist('Gen','Allow','kms:GenerateDataKey'))]),R(B,'DirectNoIam')])},
 [rq('§2.6 row 6','account delegation + caller IAM',sess(B,'Reader'),'kms:Decrypt','Allow',reasons=['key-policy#PartnerAccount','identity-policy#Use']),
  rq('§2.6 row 7','account delegation, no caller IAM',sess(B,'NoIam'),'kms:Decrypt','ImplicitDeny'),
  rq('§2.6 row 9','role named directly + caller IAM',sess(B,'Direct'),'kms:GenerateDataKey','Allow'),
  rq('§2.6 row 6','Reader can GenerateDataKey: its IAM allows it and... the key policy grants GenerateDataKey only to role Direct',sess(B,'Reader'),'kms:GenerateDataKey','ImplicitDeny'),
  rq('§2.4 point 7','key owner IAM cannot grant outsiders: outsider D has nothing',sess(D,'Any'),'kms:Decrypt','ImplicitDeny')])
# 5
case('delegation-bounded-by-statement','semantics §2.6 row 11, §2.4 point 5: an account can only delegate what the key policy gives it',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'),st('PartnerEncryptOnly','Allow',root(B),'kms:Encrypt',cond={'StringEquals':{'kms:EncryptionContext:app':'billing'}})),
  'partner-iam.json':authz(roles=[R(B,'All',inline=[ident(ist('Everything','Allow','kms:*','*'))])])},
 [rq('§2.6 row 11','Decrypt not delegated',sess(B,'All'),'kms:Decrypt','ImplicitDeny'),
  rq('§2.6 row 11','Encrypt delegated with its condition',sess(B,'All'),'kms:Encrypt','Allow',context={'app':'billing'}),
  rq('§2.4 point 5','delegation statement condition must hold',sess(B,'All'),'kms:Encrypt','ImplicitDeny',context={'app':'other'}),
  rq('§2.4 point 5','no encryption context: condition fails',sess(B,'All'),'kms:Encrypt','ImplicitDeny')])
# 6
case('non-cross-account-operations','semantics §2.6 row 13, §4.1 cross-account column',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'),st('Partner','Allow',root(B),'kms:*')),
  'partner-iam.json':authz(roles=[R(B,'Admin',inline=[ident(ist('Everything','Allow','kms:*','*'))])])},
 [rq('§2.6 row 13','ScheduleKeyDeletion is not cross-account',sess(B,'Admin'),'kms:ScheduleKeyDeletion','ImplicitDeny'),
  rq('§4.1','PutKeyPolicy is not cross-account',sess(B,'Admin'),'kms:PutKeyPolicy','ImplicitDeny'),
  rq('§4.1','EnableKey is not cross-account',sess(B,'Admin'),'kms:EnableKey','ImplicitDeny'),
  rq('§4.1','Decrypt is cross-account',sess(B,'Admin'),'kms:Decrypt','Allow'),
  rq('§4.1','DescribeKey is cross-account',sess(B,'Admin'),'kms:DescribeKey','Allow'),
  rq('§4.1','CreateGrant is cross-account',sess(B,'Admin'),'kms:CreateGrant','Allow'),
  rq('§4.1','GetKeyPolicy is not cross-account',sess(B,'Admin'),'kms:GetKeyPolicy','ImplicitDeny')])
BND=f'arn:aws:iam::{A}:policy/NoKms'
BND2=f'arn:aws:iam::{A}:policy/EncryptOnly'
# 7
case('boundary-role-vs-session','semantics §2.7: a boundary limits access granted to a role ARN, not to a user ARN or a session ARN',
 {'key-policy.json':pol(st('RoleNamed','Allow',role(A,'Bounded'),'kms:Decrypt'),st('SessionNamed','Allow',sess(A,'Bounded2','named'),'kms:Decrypt'),st('UserNamed','Allow',user(A,'bob'),'kms:Decrypt')),
  'iam.json':authz(users=[U(A,'bob',boundary=BND)],roles=[R(A,'Bounded',boundary=BND),R(A,'Bounded2',boundary=BND),R(A,'Free')],policies=[MP(A,'NoKms',ident(ist('S3Only','Allow','s3:*','*')))])},
 [rq('§2.7 row 2','role ARN named, boundary implicitly denies',sess(A,'Bounded'),'kms:Decrypt','ImplicitDeny'),
  rq('§2.7 row 3','session ARN named, boundary does not limit',sess(A,'Bounded2','named'),'kms:Decrypt','Allow',reasons=['key-policy#SessionNamed']),
  rq('§2.5.2','another session of the same role is not named',sess(A,'Bounded2','other'),'kms:Decrypt','ImplicitDeny'),
  rq('§2.7 row 1','user ARN named, boundary does not limit',user(A,'bob'),'kms:Decrypt','Allow'),
  rq('§11 item 17','role ARN named, no boundary',sess(A,'Free'),'kms:Decrypt','ImplicitDeny')])
# 8
case('boundary-on-iam-path','semantics §2.7 last row: the IAM path needs identity allow and boundary allow; boundary denies win',
 {'key-policy.json':DEFAULT,
  'iam.json':authz(roles=[R(A,'App',inline=[ident(ist('Use','Allow',['kms:Decrypt','kms:Encrypt','kms:DescribeKey']))],boundary=BND2)],
                   policies=[MP(A,'EncryptOnly',ident(ist('AllowEncrypt','Allow',['kms:Encrypt','kms:DescribeKey'],'*'),ist('NoDescribe','Deny','kms:DescribeKey','*')))])},
 [rq('§2.7','boundary does not allow Decrypt',sess(A,'App'),'kms:Decrypt','ImplicitDeny'),
  rq('§2.7','identity and boundary allow Encrypt',sess(A,'App'),'kms:Encrypt','Allow',reasons=['key-policy#Enable IAM User Permissions','identity-policy#Use','permissions-boundary#AllowEncrypt']),
  rq('§2.7','explicit deny in the boundary wins',sess(A,'App'),'kms:DescribeKey','ExplicitDeny',reasons=['permissions-boundary#NoDescribe']),
  rq('§2.7','boundary alone never grants',sess(A,'App'),'kms:GenerateDataKey','ImplicitDeny')])
# 9
case('account-root-user','semantics §2.4 point 10: the account principal covers the root user; without it root is denied',
 {'key-policy.json':DEFAULT},
 [rq('§2.4 point 10','root user with default policy',root(A),'kms:ScheduleKeyDeletion','Allow'),
  rq('§2.4 point 10','root user can change the policy',root(A),'kms:PutKeyPolicy','Allow'),
  rq('§2.6 row 7','root of another account is not trusted',root(B),'kms:Decrypt','ImplicitDeny'),
  rq('§11 item 11','an IAM user of the account has no IAM allow',user(A,'nobody'),'kms:Decrypt','ImplicitDeny')])
case('root-user-without-account','semantics §2.4 point 10: a key policy that does not name the account leaves the root user out',
 {'key-policy.json':pol(st('OnlyApp','Allow',role(A,'App'),'kms:*'))},
 [rq('§2.4 point 10','root user denied',root(A),'kms:PutKeyPolicy','ImplicitDeny'),
  rq('§2.5.2','the app role may',sess(A,'App'),'kms:PutKeyPolicy','Allow')])
# 10
case('not-principal-deny','semantics §2.5.4: Deny with NotPrincipal exempts a caller only when its account and its own (or role) ARN are listed',
 {'key-policy.json':pol(st('AnyoneInOrg','Allow','*','kms:Decrypt'),
    st('OnlyAppAndAccount','Deny',[role(A,'App'),root(A)],'kms:Decrypt',notp=True),
    st('BadNotPrincipal','Deny',[role(A,'Other')],'kms:Encrypt',notp=True)),
  'iam.json':authz(roles=[R(A,'App'),R(A,'Other')])},
 [rq('§2.5.4','role and account listed: exempt',sess(A,'App'),'kms:Decrypt','Allow'),
  rq('§2.5.4','another role of the listed account: denied',sess(A,'Other'),'kms:Decrypt','ExplicitDeny',reasons=['key-policy#OnlyAppAndAccount']),
  rq('§2.5.4','root user: account listed exempts it',root(A),'kms:Decrypt','Allow'),
  rq('§2.5.4','role listed without its account exempts nobody',sess(A,'Other'),'kms:Encrypt','ExplicitDeny'),
  rq('§2.5.4','outsider denied',sess(B,'X'),'kms:Decrypt','ExplicitDeny')])
# 11
case('not-action-not-resource','semantics §1.4-§1.5: NotAction and NotResource',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'),st('AllButDecrypt','Allow',role(A,'Ops'),['kms:Decrypt','kms:ReEncrypt*'],nota=True)),
  'iam.json':authz(roles=[R(A,'Ops'),R(A,'Iam',inline=[ident(ist('NotThatKey','Allow','kms:*',f'arn:aws:kms:us-east-1:{A}:key/other',notr=True))]),
                          R(A,'Iam2',inline=[ident(ist('NotThisKey','Allow','kms:*',KEY,notr=True))])])},
 [rq('§1.4','NotAction excludes Decrypt',sess(A,'Ops'),'kms:Decrypt','ImplicitDeny'),
  rq('§1.4','NotAction allows everything else',sess(A,'Ops'),'kms:Encrypt','Allow'),
  rq('§1.4','NotAction wildcard excludes ReEncryptFrom',sess(A,'Ops'),'kms:ReEncryptFrom','ImplicitDeny'),
  rq('§1.5','NotResource naming another key allows this one',sess(A,'Iam'),'kms:Decrypt','Allow'),
  rq('§1.5','NotResource naming this key excludes it',sess(A,'Iam2'),'kms:Decrypt','ImplicitDeny')])
# 12 string operators
case('string-operators','semantics §3.3: StringEquals, StringNotEquals, IgnoreCase, StringLike',
 {'key-policy.json':pol(
   st('Eq','Allow',role(A,'App'),'kms:Encrypt',cond={'StringEquals':{'aws:SourceVpce':'vpce-1a2b'}}),
   st('IgnoreCase','Allow',role(A,'App'),'kms:Decrypt',cond={'StringEqualsIgnoreCase':{'kms:EncryptionContext:stage':'PROD'}}),
   st('Like','Allow',role(A,'App'),'kms:GenerateDataKey',cond={'StringLike':{'kms:EncryptionContext:path':'reports/*/20??'}}),
   st('NotEq','Deny','*','kms:Encrypt',cond={'StringNotEquals':{'aws:SourceVpce':['vpce-1a2b','vpce-3c4d']}}))},
 [rq('§3.3 StringEquals','exact value',sess(A,'App'),'kms:Encrypt','Allow',conditions={'aws:SourceVpce':'vpce-1a2b'}),
  rq('§3.3 StringEquals','case differs',sess(A,'App'),'kms:Encrypt','ExplicitDeny',conditions={'aws:SourceVpce':'VPCE-1A2B'}),
  rq('§3.2','negated operator with the key absent is true: the deny fires',sess(A,'App'),'kms:Encrypt','ExplicitDeny'),
  rq('§3.1 NOR','second listed endpoint: deny does not fire, allow needs the first',sess(A,'App'),'kms:Encrypt','ImplicitDeny',conditions={'aws:SourceVpce':'vpce-3c4d'}),
  rq('§3.3 IgnoreCase','value case ignored',sess(A,'App'),'kms:Decrypt','Allow',context={'stage':'prod'}),
  rq('§3.3 StringLike','* and ? wildcards',sess(A,'App'),'kms:GenerateDataKey','Allow',context={'path':'reports/eu/west/2024'}),
  rq('§3.3 StringLike','? needs exactly one character',sess(A,'App'),'kms:GenerateDataKey','ImplicitDeny',context={'path':'reports/eu/2024x'})])
# 13 numeric/date/bool/ip
case('numeric-date-bool-ip-operators','semantics §3.3: Numeric, Date, Bool, IpAddress families and §3.2 missing keys',
 {'key-policy.json':pol(
   st('Ip','Allow',role(A,'App'),'kms:Encrypt',cond={'IpAddress':{'aws:SourceIp':['203.0.113.0/24','2001:db8::/32']}}),
   st('NotIp','Allow',role(A,'App'),'kms:Decrypt',cond={'NotIpAddress':{'aws:SourceIp':'198.51.100.0/24'}}),
   st('Mfa','Allow',role(A,'App'),'kms:DescribeKey',cond={'Bool':{'aws:MultiFactorAuthPresent':'true'},'NumericLessThan':{'aws:MultiFactorAuthAge':'3600'}}),
   st('Date','Allow',role(A,'App'),'kms:GenerateDataKey',cond={'DateLessThan':{'aws:CurrentTime':'2030-01-01T00:00:00Z'},'DateGreaterThan':{'aws:CurrentTime':'2020-01-01'}}))},
 [rq('§3.3 IpAddress','IPv4 in CIDR',sess(A,'App'),'kms:Encrypt','Allow',conditions={'aws:SourceIp':'203.0.113.7'}),
  rq('§3.3 IpAddress','IPv6 in CIDR',sess(A,'App'),'kms:Encrypt','Allow',conditions={'aws:SourceIp':'2001:db8::1'}),
  rq('§3.3 IpAddress','outside CIDR',sess(A,'App'),'kms:Encrypt','ImplicitDeny',conditions={'aws:SourceIp':'192.0.2.1'}),
  rq('§11 item 33','SourceIp absent (VPC endpoint): IpAddress false',sess(A,'App'),'kms:Encrypt','ImplicitDeny',conditions={'aws:SourceVpce':'vpce-1'}),
  rq('§11 item 33','SourceIp absent: NotIpAddress true',sess(A,'App'),'kms:Decrypt','Allow'),
  rq('§3.3 NotIpAddress','inside the excluded range',sess(A,'App'),'kms:Decrypt','ImplicitDeny',conditions={'aws:SourceIp':'198.51.100.20'}),
  rq('§3.3 Bool/Numeric','MFA present and recent',sess(A,'App'),'kms:DescribeKey','Allow',conditions={'aws:MultiFactorAuthPresent':'true','aws:MultiFactorAuthAge':'120'}),
  rq('§3.3 Numeric','MFA too old',sess(A,'App'),'kms:DescribeKey','ImplicitDeny',conditions={'aws:MultiFactorAuthPresent':'true','aws:MultiFactorAuthAge':'7200'}),
  rq('§3.2','MFA keys absent: positive operators false',sess(A,'App'),'kms:DescribeKey','ImplicitDeny'),
  rq('§3.3 Date','ISO date inside the window',sess(A,'App'),'kms:GenerateDataKey','Allow',conditions={'aws:CurrentTime':'2025-06-01T12:00:00Z'}),
  rq('§3.3 Date','epoch seconds accepted',sess(A,'App'),'kms:GenerateDataKey','Allow',conditions={'aws:CurrentTime':'1750000000'}),
  rq('§3.3 Date','after the window',sess(A,'App'),'kms:GenerateDataKey','ImplicitDeny',conditions={'aws:CurrentTime':'2031-01-01T00:00:00+02:00'})])
# 14 arn operators
case('arn-operators','semantics §3.3: ArnLike per component; aws:PrincipalArn of a session is its role ARN (§2.5.2)',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'),
   st('AppRoles','Allow','*','kms:Decrypt',cond={'ArnLike':{'aws:PrincipalArn':f'arn:aws:iam::{A}:role/app-*'}}),
   st('NotBreakGlass','Deny','*','kms:ScheduleKeyDeletion',cond={'ArnNotEquals':{'aws:PrincipalArn':f'arn:aws:iam::{A}:role/break-glass'}})),
  'iam.json':authz(roles=[R(A,'app-orders'),R(A,'other'),R(A,'break-glass',inline=[ident(ist('Del','Allow','kms:ScheduleKeyDeletion'))]),R(A,'admin',inline=[ident(ist('Del','Allow','kms:ScheduleKeyDeletion'))])])},
 [rq('§3.3 ArnLike','role name matches app-*',sess(A,'app-orders'),'kms:Decrypt','Allow'),
  rq('§3.3 ArnLike','role name does not match',sess(A,'other'),'kms:Decrypt','ImplicitDeny'),
  rq('§3.3 ArnLike','a principal of another account does not match the account component',sess(B,'app-x'),'kms:Decrypt','ImplicitDeny'),
  rq('§3.3 ArnNotEquals','break-glass exempt from the deny',sess(A,'break-glass'),'kms:ScheduleKeyDeletion','Allow'),
  rq('§3.3 ArnNotEquals','admin denied',sess(A,'admin'),'kms:ScheduleKeyDeletion','ExplicitDeny')])
# 15 set operators
case('set-operators','semantics §3.5: ForAnyValue / ForAllValues, absent keys, multi-valued keys with plain operators',
 {'key-policy.json':pol(
   st('AllValues','Allow',role(A,'App'),'kms:Encrypt',cond={'ForAllValues:StringEquals':{'kms:EncryptionContextKeys':['AppName','OrderId']}}),
   st('AnyValue','Allow',role(A,'App'),'kms:Decrypt',cond={'ForAnyValue:StringEquals':{'kms:EncryptionContextKeys':'AppName'}}),
   st('PlainOnMulti','Allow',role(A,'App'),'kms:GenerateDataKey',cond={'StringEquals':{'kms:EncryptionContextKeys':'AppName'}}),
   st('AnyNot','Allow',role(A,'App'),'kms:ReEncryptFrom',cond={'ForAnyValue:StringNotEquals':{'kms:EncryptionContextKeys':['AppName']}}))},
 [rq('§3.5 pitfall 1','ForAllValues satisfied by a request without EC',sess(A,'App'),'kms:Encrypt','Allow'),
  rq('§3.5','ForAllValues with only listed keys',sess(A,'App'),'kms:Encrypt','Allow',context={'AppName':'x','OrderId':'1'}),
  rq('§3.5','ForAllValues with an extra key',sess(A,'App'),'kms:Encrypt','ImplicitDeny',context={'AppName':'x','Extra':'1'}),
  rq('§3.5','ForAnyValue with key absent is false',sess(A,'App'),'kms:Decrypt','ImplicitDeny'),
  rq('§3.5','ForAnyValue with the key among others',sess(A,'App'),'kms:Decrypt','Allow',context={'Other':'1','AppName':'x'}),
  rq('§3.5 pitfall 6','multi-valued key under a plain operator never matches when present',sess(A,'App'),'kms:GenerateDataKey','ImplicitDeny',context={'AppName':'x'}),
  rq('§3.5 pitfall 3','ForAnyValue:StringNotEquals: some key other than AppName',sess(A,'App'),'kms:ReEncryptFrom','Allow',context={'AppName':'x','B':'y'}),
  rq('§3.5 pitfall 3','ForAnyValue:StringNotEquals: only AppName',sess(A,'App'),'kms:ReEncryptFrom','ImplicitDeny',context={'AppName':'x'})])
# 16 null / ifexists
case('null-and-ifexists','semantics §3.2 and §3.4: Null tests presence, IfExists makes an absent key true',
 {'key-policy.json':pol(
   st('NeedsContext','Allow',role(A,'App'),'kms:Encrypt',cond={'Null':{'kms:EncryptionContextKeys':'false'}}),
   st('NoBypass','Allow',role(A,'App'),'kms:DescribeKey',cond={'Null':{'kms:BypassPolicyLockoutSafetyCheck':'true'}}),
   st('VpceIfPresent','Allow',role(A,'App'),'kms:Decrypt',cond={'StringEqualsIfExists':{'aws:SourceVpce':'vpce-1'}}),
   st('DenyOtherVpce','Deny','*','kms:GenerateDataKey',cond={'StringNotEqualsIfExists':{'aws:SourceVpce':'vpce-1'}}),
   st('GenAll','Allow',role(A,'App'),'kms:GenerateDataKey'))},
 [rq('§4.4','Null false requires some EC',sess(A,'App'),'kms:Encrypt','ImplicitDeny'),
  rq('§4.4','Null false satisfied with an EC',sess(A,'App'),'kms:Encrypt','Allow',context={'k':'v'}),
  rq('§11 item 36','Null true on an omitted parameter',sess(A,'App'),'kms:DescribeKey','Allow'),
  rq('§3.4','IfExists: absent key is true',sess(A,'App'),'kms:Decrypt','Allow'),
  rq('§3.4','IfExists: present key compared',sess(A,'App'),'kms:Decrypt','ImplicitDeny',conditions={'aws:SourceVpce':'vpce-2'}),
  rq('§11 item 27','StringNotEqualsIfExists in a Deny still denies... when the key is absent it is true',sess(A,'App'),'kms:GenerateDataKey','ExplicitDeny'),
  rq('§3.4','right endpoint: no deny',sess(A,'App'),'kms:GenerateDataKey','Allow',conditions={'aws:SourceVpce':'vpce-1'})])
# 17 EC case
case('encryption-context-case','semantics §4.4: the key part of kms:EncryptionContext:<k> is case-insensitive, values follow the operator',
 {'key-policy.json':pol(
   st('LowerKey','Allow',role(A,'App'),'kms:Decrypt',cond={'StringEquals':{'kms:EncryptionContext:appname':'Orders'}}),
   st('ExactKeyAndValue','Allow',role(A,'App'),'kms:Encrypt',cond={'StringEquals':{'kms:EncryptionContext:AppName':'Orders'},'ForAnyValue:StringEquals':{'kms:EncryptionContextKeys':'AppName'}}))},
 [rq('§11 item 34','lower-case condition key matches EC key AppName',sess(A,'App'),'kms:Decrypt','Allow',context={'AppName':'Orders'}),
  rq('§4.4','value compared exactly',sess(A,'App'),'kms:Decrypt','ImplicitDeny',context={'AppName':'orders'}),
  rq('§4.4','exact key required through EncryptionContextKeys',sess(A,'App'),'kms:Encrypt','ImplicitDeny',context={'appname':'Orders'}),
  rq('§4.4','exact key and value',sess(A,'App'),'kms:Encrypt','Allow',context={'AppName':'Orders'}),
  rq('§4.4 U6','EC keys differing only in case: positive operator true if any value matches',sess(A,'App'),'kms:Decrypt','Allow',context={'AppName':'Orders','appname':'x'})])
# 18 variables
case('policy-variables','semantics §3.6: variables, defaults, special characters, and Version 2008 literal text',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*')),
  'iam.json':authz(roles=[
     R(A,'Tagged',tags={'team':'orders'},inline=[ident(ist('TeamContext','Allow','kms:Decrypt',cond={'StringEquals':{'kms:EncryptionContext:team':'${aws:PrincipalTag/team}'}}))]),
     R(A,'Untagged',inline=[ident(ist('TeamContext','Allow','kms:Decrypt',cond={'StringEquals':{'kms:EncryptionContext:team':'${aws:PrincipalTag/team}'}}),
                                ist('NotTeam','Allow','kms:Encrypt',cond={'StringNotEquals':{'kms:EncryptionContext:team':'${aws:PrincipalTag/team}'}}),
                                ist('Default','Allow','kms:GenerateDataKey',cond={'StringEquals':{'kms:EncryptionContext:team':"${aws:PrincipalTag/team, 'none'}"}}))]),
     R(A,'Star',inline=[ident(ist('Literal','Allow','kms:Decrypt',cond={'StringLike':{'kms:EncryptionContext:p':'a${*}b'}}))]),
     R(A,'Old',inline=[ident(ist('Literal','Allow','kms:Decrypt',cond={'StringEquals':{'kms:EncryptionContext:u':'${aws:username}'}}),version='2008-10-17')])])},
 [rq('§3.6','tag variable resolves',sess(A,'Tagged'),'kms:Decrypt','Allow',context={'team':'orders'}),
  rq('§3.6','tag variable resolves; other value',sess(A,'Tagged'),'kms:Decrypt','ImplicitDeny',context={'team':'billing'}),
  rq('§11 item 30','missing tag: positive operator false',sess(A,'Untagged'),'kms:Decrypt','ImplicitDeny',context={'team':'orders'}),
  rq('§11 item 30','missing tag: negated operator true',sess(A,'Untagged'),'kms:Encrypt','Allow',context={'team':'orders'}),
  rq('§11 item 30','default value substituted',sess(A,'Untagged'),'kms:GenerateDataKey','Allow',context={'team':'none'}),
  rq('§11 item 31','${*} is a literal asterisk',sess(A,'Star'),'kms:Decrypt','Allow',context={'p':'a*b'}),
  rq('§11 item 31','${*} is not a wildcard',sess(A,'Star'),'kms:Decrypt','ImplicitDeny',context={'p':'axxb'}),
  rq('§11 item 5','Version 2008: variable is literal text',sess(A,'Old'),'kms:Decrypt','Allow',context={'u':'${aws:username}'})])
# 19 viaservice
AWSMANAGED=pol(st('Allow access through EBS for all principals in the account that are authorized to use EBS','Allow',{'AWS':'*'},['kms:Encrypt','kms:Decrypt','kms:ReEncrypt*','kms:GenerateDataKey*','kms:CreateGrant','kms:DescribeKey'],
  cond={'StringEquals':{'kms:ViaService':'ec2.us-east-1.amazonaws.com','kms:CallerAccount':A}}),
  st('Allow direct access to key metadata to the account','Allow',{'AWS':root(A)},['kms:Describe*','kms:Get*','kms:List*','kms:RevokeGrant']))
case('via-service-and-caller-account','semantics §4.2 kms:ViaService and kms:CallerAccount (AWS managed key policy shape, §4.6)',
 {'key-policy.json':AWSMANAGED,'iam.json':authz(users=[U(A,'dev',inline=[ident(ist('Ebs','Allow','kms:*','*'))])])},
 [rq('§4.2','through EBS in the same account',user(A,'dev'),'kms:Decrypt','Allow',conditions={'kms:ViaService':'ec2.us-east-1.amazonaws.com'}),
  rq('§4.2','direct call: ViaService absent',user(A,'dev'),'kms:Decrypt','ImplicitDeny'),
  rq('§4.2','through another service',user(A,'dev'),'kms:Decrypt','ImplicitDeny',conditions={'kms:ViaService':'s3.us-east-1.amazonaws.com'}),
  rq('§4.2','through EBS from another account: CallerAccount differs',sess(B,'x'),'kms:Decrypt','ImplicitDeny',conditions={'kms:ViaService':'ec2.us-east-1.amazonaws.com'}),
  rq('§4.6','metadata via account delegation + IAM',user(A,'dev'),'kms:DescribeKey','Allow')])
# 20 grants from the examples
case('grants','semantics §6.3-§6.5 with the grants of examples/list-grants.json (examples E1-E9)',
 {},
 [rq('E1','grant 1, EncryptionContextSubset',sess(A,'OrdersBatch','s'),'kms:Decrypt','Allow',context={'AppName':'Orders','OrderId':'1'},reasons=['grant#8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b']),
  rq('E2','grant constraint keys are exact',sess(A,'OrdersBatch','s'),'kms:Decrypt','ImplicitDeny',context={'appname':'Orders'}),
  rq('E3','operation not in the grant',sess(A,'OrdersBatch','s'),'kms:Encrypt','ImplicitDeny'),
  rq('E4 U2','cross-account grantee, EncryptionContextEquals',sess(B,'Analytics','s'),'kms:Decrypt','Allow',context={'Department':'IT'}),
  rq('E5','EncryptionContextEquals rejects an extra pair',sess(B,'Analytics','s'),'kms:Decrypt','ImplicitDeny',context={'Department':'IT','Team':'x'}),
  rq('E6','grantee retires a grant that includes RetireGrant',sess(B,'Analytics','s'),'kms:RetireGrant','Allow',grant_id='0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60'),
  rq('E7','grantee without RetireGrant and not retiring principal',sess(A,'OrdersBatch','s'),'kms:RetireGrant','ImplicitDeny',grant_id='8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b'),
  rq('E8','retiring principal',sess(A,'KeyAdmin','s'),'kms:RetireGrant','Allow',grant_id='8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b'),
  rq('E9','EC constraints are ignored for DescribeKey',sess(A,'OrdersBatch','s'),'kms:DescribeKey','Allow',context={'x':'y'}),
  rq('§6.3','service grantee',"dynamodb.us-east-1.amazonaws.com",'kms:GenerateDataKey','Allow',context={'aws:dynamodb:tableName':'Orders','aws:dynamodb:subscriberId':A})],
 files=['../../examples/key-policy-enable-iam-and-key-users.json','../../examples/list-grants.json'])
# 21 grant deny override + account grantee
case('grants-and-denies','semantics §6.3 item 5 (denies override grants), U3 (account-root grantee)',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'),st('NoDecryptOutsideVpce','Deny','*','kms:Decrypt',cond={'StringNotEquals':{'aws:SourceVpce':'vpce-1'}})),
  'grants.json':{'Grants':[
    {'KeyId':KEY,'GrantId':'g-user','GranteePrincipal':user(A,'carol'),'IssuingAccount':root(A),'Operations':['Decrypt','Encrypt']},
    {'KeyId':KEY,'GrantId':'g-account','GranteePrincipal':root(B),'IssuingAccount':root(A),'Operations':['Decrypt']}]},
  'iam.json':authz(users=[U(A,'carol')]),
  'partner-iam.json':authz(roles=[R(B,'WithIam',inline=[ident(ist('Use','Allow','kms:Decrypt'))]),R(B,'Any')])},
 [rq('§6.3 item 5','key-policy deny overrides the grant',user(A,'carol'),'kms:Decrypt','ExplicitDeny'),
  rq('U3','account-root grantee: a role of that account with an IAM allow uses the grant',sess(B,'WithIam'),'kms:Decrypt','Allow',conditions={'aws:SourceVpce':'vpce-1'},reasons=['grant#g-account']),
  rq('§6.3','grant allows through the right endpoint',user(A,'carol'),'kms:Decrypt','Allow',conditions={'aws:SourceVpce':'vpce-1'}),
  rq('§6.3','grant allows Encrypt',user(A,'carol'),'kms:Encrypt','Allow',reasons=['grant#g-user']),
  rq('U3','account-root grantee: a role of that account needs an IAM allow',sess(B,'Any'),'kms:Decrypt','ImplicitDeny',conditions={'aws:SourceVpce':'vpce-1'}),
  rq('U3','account-root grantee: the root user of that account',root(B),'kms:Decrypt','Allow',conditions={'aws:SourceVpce':'vpce-1'})])
ORGOPTS={'key_arn':KEY,'org_id':'o-a1b2c3d4e5','org_accounts':[A,C]}
# 22 scp
case('scp-hierarchy','semantics §2.8 and examples F: SCPs need an allow at every level, denies win, the management account is exempt',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*')),
  'iam.json':authz(roles=[R(A,'KeyAdmin',inline=[ident(ist('All','Allow','kms:*','*'))]),R(A,'Ops',inline=[ident(ist('All','Allow','kms:*','*'))])])},
 [rq('examples F','SCP denies ScheduleKeyDeletion to roles other than KeyAdmin',sess(A,'Ops'),'kms:ScheduleKeyDeletion','ExplicitDeny',reasons=['scp#ProtectKmsKeys']),
  rq('examples F','KeyAdmin exempt by ArnNotLike on aws:PrincipalArn',sess(A,'KeyAdmin'),'kms:ScheduleKeyDeletion','Allow'),
  rq('examples F','other actions allowed by FullAWSAccess at every level',sess(A,'Ops'),'kms:Decrypt','Allow'),
  rq('§2.8','member-account root user is also restricted by SCPs',root(A),'kms:PutKeyPolicy','ExplicitDeny')],
 files=['../../examples/organizations-hierarchy.json','../../examples/organizations-describe-policy-scp.json'], options=ORGOPTS)
case('scp-missing-level','semantics §2.3 step 3, §11 item 22: an allow only at the root is not enough',
 {'key-policy.json':DEFAULT,'iam.json':authz(roles=[R(A,'App',inline=[ident(ist('All','Allow','kms:*','*'))])]),
  'org.json':{'describe-organization':{'Organization':{'Id':'o-a1b2c3d4e5','MasterAccountId':M}},
              'list-roots':{'Roots':[{'Id':'r-ab12','PolicyTypes':[{'Type':'SERVICE_CONTROL_POLICY','Status':'ENABLED'}]}]},
              'list-parents --child-id 111122223333':{'Parents':[{'Id':'ou-ab12-11111111','Type':'ORGANIZATIONAL_UNIT'}]},
              'list-parents --child-id ou-ab12-11111111':{'Parents':[{'Id':'r-ab12','Type':'ROOT'}]},
              'list-policies-for-target --target-id r-ab12 --filter SERVICE_CONTROL_POLICY':{'Policies':[{'Id':'p-FullAWSAccess','Type':'SERVICE_CONTROL_POLICY','AwsManaged':True}]},
              'list-policies-for-target --target-id ou-ab12-11111111 --filter SERVICE_CONTROL_POLICY':{'Policies':[{'Id':'p-s3only','Type':'SERVICE_CONTROL_POLICY','AwsManaged':False}]},
              'list-policies-for-target --target-id 111122223333 --filter SERVICE_CONTROL_POLICY':{'Policies':[{'Id':'p-FullAWSAccess','Type':'SERVICE_CONTROL_POLICY','AwsManaged':True}]},
              'describe-policy --policy-id p-s3only':{'Policy':{'PolicySummary':{'Id':'p-s3only','Name':'S3Only','Type':'SERVICE_CONTROL_POLICY','AwsManaged':False},'Content':json.dumps(pol(st('S3','Allow',None,'s3:*')))}}}},
 [rq('§11 item 22','OU level allows only s3:*',sess(A,'App'),'kms:Decrypt','ImplicitDeny'),
  rq('§2.8','the root user of a member account too',root(A),'kms:Decrypt','ImplicitDeny')], options=ORGOPTS)
# 23 rcp
case('rcp-perimeter','semantics §2.8 and examples D9: RCPs apply to every caller of member-account resources; RetireGrant is exempt',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'),st('Partner','Allow',root(B),['kms:Decrypt','kms:GenerateDataKey','kms:RetireGrant'])),
  'partner-iam.json':authz(roles=[R(B,'Reader',inline=[ident(ist('Use','Allow',['kms:Decrypt','kms:GenerateDataKey','kms:RetireGrant']))])]),
  'iam.json':authz(roles=[R(A,'App',inline=[ident(ist('All','Allow','kms:*','*'))])]),
  'grants.json':{'Grants':[{'KeyId':KEY,'GrantId':'g1','GranteePrincipal':role(B,'Reader'),'RetiringPrincipal':role(B,'Reader'),'IssuingAccount':root(A),'Operations':['Decrypt']}]}},
 [rq('examples D9','partner outside the org denied by the RCP',sess(B,'Reader'),'kms:GenerateDataKey','ExplicitDeny',conditions={'kms:ViaService':'s3.us-east-1.amazonaws.com'},reasons=['rcp#EnforceOrgIdentities']),
  rq('§2.8','org member allowed',sess(A,'App'),'kms:Decrypt','Allow'),
  rq('§2.8','plain HTTP denied by the TLS statement',sess(A,'App'),'kms:Decrypt','ExplicitDeny',conditions={'aws:SecureTransport':'false'}),
  rq('§11 item 21','RetireGrant is not evaluated in RCPs',sess(B,'Reader'),'kms:RetireGrant','Allow',grant_id='g1'),
  rq('§2.8','service principal passes the perimeter but nothing allows it',"cloudtrail.amazonaws.com",'kms:GenerateDataKey','ImplicitDeny')],
 files=['../../examples/organizations-hierarchy.json','../../examples/organizations-describe-policy-scp.json','../../examples/organizations-describe-policy-rcp.json'], options=ORGOPTS)
# 24 deleted principals
case('deleted-principals','semantics §2.5.3: bare unique ids match nobody; a role missing from a complete IAM listing is deleted',
 {'key-policy.json':pol(st('Ghost','Allow',{'AWS':'AROAEXAMPLEGHOST00001'},'kms:*'),st('Gone','Allow',role(A,'Deleted'),'kms:Decrypt'),st('Alive','Allow',role(A,'Alive'),'kms:Decrypt'),
   st('ByArnCondition','Allow','*','kms:Encrypt',cond={'ArnEquals':{'aws:PrincipalArn':role(A,'Deleted')}})),
  'iam.json':authz(roles=[R(A,'Alive')])},
 [rq('§2.5.3','bare unique id matches nobody',sess(A,'Alive'),'kms:PutKeyPolicy','ImplicitDeny'),
  rq('§2.5.3','role absent from the complete listing matches nobody',sess(A,'Deleted'),'kms:Decrypt','ImplicitDeny'),
  rq('§2.5.3','existing role matches',sess(A,'Alive'),'kms:Decrypt','Allow'),
  rq('§2.5.3','aws:PrincipalArn conditions are not converted to ids',sess(A,'Deleted'),'kms:Encrypt','Allow')])
# 25 aliases
case('alias-conditions','semantics §4.5: kms:RequestAlias only when the request used the alias; kms:ResourceAliases in IAM policies',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'),st('ViaAlias','Allow',role(A,'App'),'kms:Decrypt',cond={'StringEquals':{'kms:RequestAlias':'alias/orders'}})),
  'aliases.json':{'Aliases':[{'AliasName':'alias/orders','AliasArn':f'arn:aws:kms:us-east-1:{A}:alias/orders','TargetKeyId':'1234abcd-12ab-34cd-56ef-1234567890ab'}]},
  'iam.json':authz(roles=[R(A,'App'),R(A,'Abac',inline=[ident(ist('ByAlias','Allow','kms:Encrypt','*',cond={'ForAnyValue:StringEquals':{'kms:ResourceAliases':'alias/orders'}}))]),
                          R(A,'AliasArn',inline=[ident(ist('AliasArn','Allow','kms:Encrypt',f'arn:aws:kms:us-east-1:{A}:alias/orders'))])])},
 [rq('§4.5','key named by alias',sess(A,'App'),'kms:Decrypt','Allow',key='alias/orders'),
  rq('§4.5','key named by ARN: RequestAlias absent',sess(A,'App'),'kms:Decrypt','ImplicitDeny',key=KEY),
  rq('§4.5','alias ARN also sets RequestAlias to the alias name',sess(A,'App'),'kms:Decrypt','Allow',key=f'arn:aws:kms:us-east-1:{A}:alias/orders'),
  rq('§4.5','ResourceAliases regardless of how the key was named',sess(A,'Abac'),'kms:Encrypt','Allow',key=KEY),
  rq('§11 item 66','alias ARN in an IAM Resource never matches a key operation',sess(A,'AliasArn'),'kms:Encrypt','ImplicitDeny',key='alias/orders')])
# 26 ABAC tags
case('resource-tags','semantics §4.5: aws:ResourceTag in IAM policies (ABAC)',
 {'key-policy.json':DEFAULT,
  'iam.json':authz(roles=[R(A,'Team',tags={'team':'orders'},inline=[ident(ist('Tagged','Allow','kms:Decrypt','*',cond={'StringEquals':{'aws:ResourceTag/team':'${aws:PrincipalTag/team}'}}))])])},
 [rq('§4.5','key tag equals the principal tag',sess(A,'Team'),'kms:Decrypt','Allow',conditions={'aws:ResourceTag/team':'orders'}),
  rq('§4.5','key tag differs',sess(A,'Team'),'kms:Decrypt','ImplicitDeny',conditions={'aws:ResourceTag/team':'billing'}),
  rq('§4.5','key untagged',sess(A,'Team'),'kms:Decrypt','ImplicitDeny')])
# 27 service principal
case('service-principals','semantics §1.3 and §2.4 point 8: service principals need a key-policy (or grant) allow; confused-deputy conditions',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'),
   st('CloudTrail','Allow',{'Service':'cloudtrail.amazonaws.com'},'kms:GenerateDataKey*',cond={'StringEquals':{'aws:SourceArn':f'arn:aws:cloudtrail:us-east-1:{A}:trail/main'},'StringLike':{'kms:EncryptionContext:aws:cloudtrail:arn':f'arn:aws:cloudtrail:*:{A}:trail/*'}}))},
 [rq('§8.8','CloudTrail writing for the named trail',"cloudtrail.amazonaws.com",'kms:GenerateDataKey','Allow',context={'aws:cloudtrail:arn':f'arn:aws:cloudtrail:us-east-1:{A}:trail/main'},conditions={'aws:SourceArn':f'arn:aws:cloudtrail:us-east-1:{A}:trail/main'}),
  rq('§4.3','another trail (confused deputy)',"cloudtrail.amazonaws.com",'kms:GenerateDataKey','ImplicitDeny',context={'aws:cloudtrail:arn':f'arn:aws:cloudtrail:us-east-1:{D}:trail/x'},conditions={'aws:SourceArn':f'arn:aws:cloudtrail:us-east-1:{D}:trail/x'}),
  rq('§2.4 point 8','another service principal',"logs.amazonaws.com",'kms:GenerateDataKey','ImplicitDeny'),
  rq('§2.4 point 8','CloudTrail cannot decrypt',"cloudtrail.amazonaws.com",'kms:Decrypt','ImplicitDeny')])
# 28 examples A
EXA='../../examples/key-policy-enable-iam-and-key-users.json'
case('example-a-key-users','examples A1-A12: key users limited by encryption context, administrators, grant statement',
 {},
 [rq('A1','role ARN matches its sessions; both conditions true',sess(A,'OrdersApp','s1'),'kms:Encrypt','Allow',context={'AppName':'Orders','OrderId':'42'},reasons=['key-policy#KeyUsersOnlyWithOrdersEncryptionContext']),
  rq('A2','ForAllValues fails on Extra',sess(A,'OrdersApp','s1'),'kms:Encrypt','ImplicitDeny',context={'AppName':'Orders','Extra':'x'}),
  rq('A3','no EC: StringEquals has no value',sess(A,'OrdersApp','s1'),'kms:Encrypt','ImplicitDeny'),
  rq('A4','EncryptionContextKeys compared case-sensitively',sess(A,'OrdersApp','s1'),'kms:Encrypt','ImplicitDeny',context={'appname':'Orders'}),
  rq('A5','direct user principal',user(A,'alice'),'kms:Decrypt','Allow',context={'AppName':'Orders'}),
  rq('A6','admin statement kms:Put*',sess(A,'KeyAdmin','s'),'kms:PutKeyPolicy','Allow',reasons=['key-policy#Allow access for Key Administrators']),
  rq('A7','admin statement lacks Decrypt',sess(A,'KeyAdmin','s'),'kms:Decrypt','ImplicitDeny'),
  rq('A8','CreateGrant for an AWS resource',sess(A,'OrdersApp','s'),'kms:CreateGrant','Allow',conditions={'kms:GrantIsForAWSResource':'true'}),
  rq('A9','CreateGrant called directly',sess(A,'OrdersApp','s'),'kms:CreateGrant','ImplicitDeny'),
  rq('A10','only delegation applies; no IAM',user(A,'bob'),'kms:DescribeKey','ImplicitDeny'),
  rq('A11','account principal covers the root user',root(A),'kms:ScheduleKeyDeletion','Allow'),
  rq('A12','no statement covers the partner account',sess(B,'Any'),'kms:Decrypt','ImplicitDeny')],
 files=[EXA])
case('example-b-with-identities','examples B1-B7: the same key policy with IAM identities, groups, boundaries and managed policy versions',
 {},
 [rq('B1','IAM path: delegation + inline policy; boundary allows Encrypt',sess(A,'OrdersApp','s1'),'kms:Encrypt','Allow',context={'AppName':'Orders','Extra':'x'}),
  rq('B2','group deny with BoolIfExists MFA false and the key absent',user(A,'alice'),'kms:Decrypt','ExplicitDeny',context={'AppName':'Orders'},reasons=['identity-policy#0']),
  rq('B3','MFA session: key policy names alice',user(A,'alice'),'kms:Decrypt','Allow',context={'AppName':'Orders'},conditions={'aws:MultiFactorAuthPresent':'true'}),
  rq('B4','IAM-only action: boundary lacks kms:ListAliases',user(A,'alice'),'kms:ListAliases','ImplicitDeny'),
  rq('B5','managed policy v2 (default) with ResourceTag = PrincipalTag',user(A,'alice'),'kms:DescribeKey','Allow',conditions={'aws:MultiFactorAuthPresent':'true','aws:ResourceTag/team':'orders'}),
  rq('B6','NotAction excludes Decrypt',sess(A,'KeyAdmin','s'),'kms:Decrypt','ImplicitDeny'),
  rq('B7','boundary explicitly denies PutKeyPolicy',sess(A,'OrdersApp','s1'),'kms:PutKeyPolicy','ExplicitDeny',reasons=['permissions-boundary#BoundaryDeniesKeyDeletion'])],
 files=[EXA,'../../examples/get-account-authorization-details.json'])
cases['example-c-locked-out']={'description':'examples C3-C6: a key whose policy nobody can change','files':['../../examples/key-policy-locked-out.json'],
 'documents':{'iam.json':authz(roles=[R(A,'OrdersApp'),R(A,'Operator'),R(A,'Admin',managed=['arn:aws:iam::aws:policy/AdministratorAccess'])],policies=[{'PolicyName':'AdministratorAccess','Arn':'arn:aws:iam::aws:policy/AdministratorAccess','Path':'/','DefaultVersionId':'v1','PolicyVersionList':[{'Document':pol(st(None,'Allow',None,'*')) ,'VersionId':'v1','IsDefaultVersion':True}]}])},
 'options':{'key_arn':KEY},
 'requests':[rq('C3','the app can still encrypt',sess(A,'OrdersApp','s'),'kms:Encrypt','Allow'),
  rq('C4','operators can still delete the key',sess(A,'Operator','s'),'kms:ScheduleKeyDeletion','Allow'),
  rq('C5','root user: explicit deny and no delegation',root(A),'kms:PutKeyPolicy','ExplicitDeny',reasons=['key-policy#NobodyMayChangeThePolicy']),
  rq('C5','admins too',sess(A,'Operator','s'),'kms:PutKeyPolicy','ExplicitDeny'),
  rq('C6','AdministratorAccess is ineffective without delegation',sess(A,'Admin','s'),'kms:Encrypt','ImplicitDeny')]}
# fix AdministratorAccess statement: remove Sid None and Resource
cases['example-c-locked-out']['documents']['iam.json']['Policies'][0]['PolicyVersionList'][0]['Document']={'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*','Resource':'*'}]}
case('example-d-cross-account-org','examples D1-D8: org-wide sharing with aws:PrincipalOrgID, partner through S3 only, deny-outsiders guard',
 {'member-iam.json':authz(roles=[R(C,'Reader',inline=[json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'examples', 'iam-policy-cross-account-caller.json')))]),R(C,'NoIam')]),
  'partner-iam.json':authz(roles=[R(B,'Partner',inline=[ident(ist('Use','Allow',['kms:Decrypt','kms:GenerateDataKey']))])]),
  'outsider-iam.json':authz(roles=[R(D,'Outsider',inline=[ident(ist('Use','Allow','kms:*','*'))])]),
  'iam.json':authz(users=[U(A,'local')])},
 [rq('D1','org member with caller IAM',sess(C,'Reader'),'kms:Decrypt','Allow'),
  rq('D2','org member without caller IAM',sess(C,'NoIam'),'kms:Decrypt','ImplicitDeny'),
  rq('D3','alias ARN in IAM never matches; org statement lacks Encrypt',sess(C,'Reader'),'kms:Encrypt','ImplicitDeny'),
  rq('D4','partner directly: ViaService absent; guard does not fire',sess(B,'Partner'),'kms:Decrypt','ImplicitDeny'),
  rq('D5','partner via S3',sess(B,'Partner'),'kms:GenerateDataKey','Allow',conditions={'kms:ViaService':'s3.us-east-1.amazonaws.com'}),
  rq('D6','outsider: guard denies',sess(D,'Outsider'),'kms:Decrypt','ExplicitDeny',reasons=['key-policy#DenyEveryoneOutsideTheOrgExceptPartnerAndAWSServices']),
  rq('D7','same-account user through * + PrincipalOrgID without IAM',user(A,'local'),'kms:Decrypt','Allow'),
  rq('D8','CloudTrail: not denied by the guard, nothing allows it',"cloudtrail.amazonaws.com",'kms:GenerateDataKey','ImplicitDeny')],
 files=['../../examples/key-policy-cross-account-org.json'], options=ORGOPTS)
# federated user and IAM-only
case('federated-and-iam-only','semantics §2.5.2 federated users; §1.5 IAM-only actions are decided by identity policies alone',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'),st('Fed','Allow',{'AWS':f'arn:aws:sts::{A}:federated-user/partner-bot'},'kms:Decrypt')),
  'iam.json':authz(users=[U(A,'lister',inline=[ident(ist('List','Allow',['kms:ListAliases','kms:ListKeys'],'*'))])])},
 [rq('§2.5.2','federated-user ARN named directly',f'arn:aws:sts::{A}:federated-user/partner-bot','kms:Decrypt','Allow'),
  rq('§2.5.2','another federated user',f'arn:aws:sts::{A}:federated-user/other','kms:Decrypt','ImplicitDeny'),
  rq('§1.5','ListAliases allowed by IAM alone',user(A,'lister'),'kms:ListAliases','Allow'),
  rq('§1.5','CreateKey not allowed',user(A,'lister'),'kms:CreateKey','ImplicitDeny')])
# action matching
case('action-matching','semantics §1.4 and §11 items 2-3: case-insensitive actions, ? wildcard, whitespace never matches',
 {'key-policy.json':pol(st('Upper','Allow',role(A,'App'),'KMS:decrypt'),st('Question','Allow',role(A,'App'),'kms:Re?ncrypt*'),st('Space','Allow',role(A,'App'),'kms:Encrypt '),
   st('Admin','Allow',role(A,'Admin'),['kms:Delete*','kms:Get*']))},
 [rq('§11 item 2','case-insensitive action',sess(A,'App'),'kms:Decrypt','Allow'),
  rq('§11 item 3','? matches one character',sess(A,'App'),'kms:ReEncryptTo','Allow'),
  rq('§11 item 2','trailing space never matches',sess(A,'App'),'kms:Encrypt','ImplicitDeny'),
  rq('§11 item 42','kms:Delete* does not cover ScheduleKeyDeletion',sess(A,'Admin'),'kms:ScheduleKeyDeletion','ImplicitDeny'),
  rq('§4.1','kms:Delete* covers DeleteImportedKeyMaterial',sess(A,'Admin'),'kms:DeleteImportedKeyMaterial','Allow'),
  rq('§4.1','kms:Get* covers GetKeyPolicy',sess(A,'Admin'),'kms:GetKeyPolicy','Allow')])
# resource matching in key policy
case('key-policy-resource','semantics §1.5: in a key policy Resource * is this key; a matching ARN works; another ARN makes the statement inert',
 {'key-policy.json':pol(st('Star','Allow',role(A,'A1'),'kms:Decrypt'),st('Own','Allow',role(A,'A2'),'kms:Decrypt',res=KEY),
   st('Other','Allow',role(A,'A3'),'kms:Decrypt',res=f'arn:aws:kms:us-east-1:{A}:key/other'),st('Pattern','Allow',role(A,'A4'),'kms:Decrypt',res=f'arn:aws:kms:*:{A}:key/*'))},
 [rq('§1.5','Resource *',sess(A,'A1'),'kms:Decrypt','Allow'),
  rq('§1.5','own key ARN',sess(A,'A2'),'kms:Decrypt','Allow'),
  rq('§1.5','another key ARN: inert',sess(A,'A3'),'kms:Decrypt','ImplicitDeny'),
  rq('§1.5','ARN pattern matching the key',sess(A,'A4'),'kms:Decrypt','Allow')])
# explicit deny precedence across sources
case('deny-precedence','semantics §2.9: explicit deny in any policy wins over every allow',
 {'key-policy.json':pol(st('Enable IAM User Permissions','Allow',root(A),'kms:*'),st('App','Allow',role(A,'App'),'kms:*'),st('NoDeleteForApp','Deny',role(A,'App'),'kms:ScheduleKeyDeletion'),
    st('AccountDeny','Deny',root(B),'kms:*')),
  'iam.json':authz(roles=[R(A,'App',inline=[ident(ist('NoDisable','Deny','kms:DisableKey','*'))])]),
  'partner-iam.json':authz(roles=[R(B,'P',inline=[ident(ist('All','Allow','kms:*','*'))])])},
 [rq('§2.9','key policy deny beats the key policy allow',sess(A,'App'),'kms:ScheduleKeyDeletion','ExplicitDeny'),
  rq('§2.9','identity deny beats the key policy allow',sess(A,'App'),'kms:DisableKey','ExplicitDeny',reasons=['identity-policy#NoDisable']),
  rq('§2.2','account-level match in a Deny denies the whole account',sess(B,'P'),'kms:Decrypt','ExplicitDeny',reasons=['key-policy#AccountDeny']),
  rq('§2.9','allowed action',sess(A,'App'),'kms:Decrypt','Allow')])
for name,c in cases.items():
    if c is None: continue
    d=os.path.join(OUT,name); os.makedirs(d,exist_ok=True)
    json.dump(c,open(os.path.join(d,'case.json'),'w'),indent=2); open(os.path.join(d,'case.json'),'a').write('\n')
print(len([c for c in cases.values() if c]), sum(len(c['requests']) for c in cases.values() if c))
