// Line makers for the pattern and access-log benchmark data (used by generate.js): the shapes
// of the loghub HDFS and Zookeeper samples (their message templates, in about their
// proportions, with the variable parts varied) and combined-format access logs.
// Each: line(r, clock) -> one line without LF; pad(clock, n) -> a line of exactly n ASCII bytes.

const nine = (r) => String(r.u32() % 1e9).padStart(9, '0');

// Events: [weight, make(r) -> line body]; weighted() picks one.
function weighted(events) {
  const total = events.reduce((sum, [w]) => sum + w, 0);
  return (r) => {
    let n = r.float() * total;
    for (const [w, make] of events) {
      if ((n -= w) < 0) return make(r);
    }
    return events[events.length - 1][1](r);
  };
}

// --- HDFS: `081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_… terminating`

const blk = (r) => `blk_${r.chance(0.5) ? '-' : ''}${r.int(1, 9)}${nine(r)}${nine(r)}`;
const dataNode = (r) => `10.25${r.int(0, 1)}.${r.int(0, 255)}.${r.int(1, 254)}`;
const ephemeral = (r) => r.int(32768, 60999);
const blockSize = (r) => (r.chance(0.85) ? 67108864 : r.int(1, 67108863));
// Thread ids: a few busy ones, a long tail.
const hdfsPid = (r) => (r.chance(0.6) ? r.int(13, 40) : r.int(41, 32000));
const taskPath = (r) => {
  const n = r.int(0, 1999);
  const job = `${r.pick(['rand', 'sortrand', 'randtxt'])}/_temporary/_task_200811${r.int(10, 11)}${r.int(1000, 2359)}_${String(r.int(1, 12)).padStart(4, '0')}`;
  return `/user/root/${job}_${r.pick(['m', 'm', 'r'])}_${String(n).padStart(6, '0')}_${r.int(0, 2)}/part-${String(n).padStart(5, '0')}`;
};

const HDFS_EVENTS = weighted([
  [314, (r) => `INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: ${dataNode(r)}:50010 is added to ${blk(r)} size ${blockSize(r)}`],
  [311, (r) => `INFO dfs.DataNode$PacketResponder: PacketResponder ${r.int(0, 2)} for block ${blk(r)} terminating`],
  [292, (r) => `INFO dfs.DataNode$PacketResponder: Received block ${blk(r)} of size ${blockSize(r)} from /${dataNode(r)}`],
  [292, (r) => {
    const src = dataNode(r);
    return `INFO dfs.DataNode$DataXceiver: Receiving block ${blk(r)} src: /${src}:${ephemeral(r)} dest: /${r.chance(0.5) ? src : dataNode(r)}:50010`;
  }],
  [263, (r) => {
    const b = blk(r);
    return `INFO dfs.FSDataset: Deleting block ${b} file /mnt/hadoop/dfs/data/current/subdir${r.int(0, 63)}/${b}`;
  }],
  [224, (r) => `INFO dfs.FSNamesystem: BLOCK* NameSystem.delete: ${blk(r)} is added to invalidSet of ${dataNode(r)}:50010`],
  [115, (r) => `INFO dfs.FSNamesystem: BLOCK* NameSystem.allocateBlock: ${taskPath(r)}. ${blk(r)}`],
  [80, (r) => `INFO dfs.DataNode$DataXceiver: ${dataNode(r)}:50010 Served block ${blk(r)} to /${dataNode(r)}`],
  [80, (r) => `WARN dfs.DataNode$DataXceiver: ${dataNode(r)}:50010:Got exception while serving ${blk(r)} to /${dataNode(r)}:`],
  [20, (r) => `INFO dfs.DataBlockScanner: Verification succeeded for ${blk(r)}`],
  [5, (r) => `INFO dfs.FSNamesystem: BLOCK* ask ${dataNode(r)}:50010 to delete  ${blk(r)}`],
  [2, (r) => `INFO dfs.DataNode$DataXceiver: Received block ${blk(r)} src: /${dataNode(r)}:${ephemeral(r)} dest: /${dataNode(r)}:50010 of size ${blockSize(r)}`],
  [1, (r) => `INFO dfs.DataNode: ${dataNode(r)}:50010 Starting thread to transfer block ${blk(r)} to ${dataNode(r)}:50010`],
  [1, (r) => `INFO dfs.FSNamesystem: BLOCK* ask ${dataNode(r)}:50010 to replicate ${blk(r)} to datanode(s) ${dataNode(r)}:50010`],
]);

// --- Zookeeper: `2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200`

const SESSION_PREFIXES = ['14ed93111f2', '24ed9311942', '34ed9348509', '14ede63a5a7', '24ede63a01b', '34ede65503f', '14f05578bd8'];
const session = (r) => `0x${r.pick(SESSION_PREFIXES)}${r.u32().toString(16).slice(-4).padStart(4, '0')}`;
const peer = (r) => `10.10.34.${r.int(11, 13)}`;
const client = (r) => `10.10.34.${r.int(11, 42)}`;
const myid = (r) => r.int(1, 3);
const SIDS = ['188978561024', '188978561024', '188978561024', '1', '2', '3'];
const NIO = 'NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181';
const quorumPeer = (r) => `QuorumPeer[myid=${myid(r)}]/0:0:0:0:0:0:0:0:2181`;
const ENVIRONMENT = ['zookeeper.version=3.4.5--1, built on 06/10/2013 17:26 GMT', 'host.name=mesos-master-1', 'java.version=1.7.0_67',
  'java.vendor=Oracle Corporation', 'java.home=/usr/lib/jvm/java-7-openjdk-amd64/jre', 'os.name=Linux', 'os.arch=amd64',
  'os.version=3.2.0-23-generic', 'user.name=zookeeper', 'user.home=/var/lib/zookeeper', 'user.dir=/'];
const STATES = ['LOOKING', 'LOOKING', 'FOLLOWING', 'LEADING'];
const zx = (r) => `0x${r.int(1, 11).toString(16)}${r.u32().toString(16).padStart(8, '0')}`;

// Each makes [level, inside the brackets, message].
const ZOOKEEPER_EVENTS = weighted([
  [313, (r) => ['WARN', `SendWorker:${r.pick(SIDS)}:QuorumCnxManager$SendWorker@679`, 'Interrupted while waiting for message on queue']],
  [299, (r) => ['INFO', `/${peer(r)}:3888:QuorumCnxManager$Listener@493`, `Received connection request /${peer(r)}:${ephemeral(r)}`]],
  [289, (r) => {
    const sid = r.pick(SIDS);
    return ['WARN', `RecvWorker:${sid}:QuorumCnxManager$RecvWorker@762`, `Connection broken for id ${sid}, my id = ${myid(r)}, error = `];
  }],
  [265, (r) => ['WARN', `RecvWorker:${r.pick(SIDS)}:QuorumCnxManager$RecvWorker@765`, 'Interrupting SendWorker']],
  [261, (r) => ['WARN', `SendWorker:${r.pick(SIDS)}:QuorumCnxManager$SendWorker@688`, 'Send worker leaving thread']],
  [85, (r) => ['WARN', r.chance(0.9) ? `${quorumPeer(r)}:QuorumCnxManager@368` : `WorkerSender[myid=${myid(r)}]:QuorumCnxManager@368`,
    `Cannot open channel to ${myid(r)} at election address /${peer(r)}:3888`]],
  [48, (r) => ['INFO', `${NIO}:NIOServerCnxnFactory@197`, `Accepted socket connection from /${client(r)}:${ephemeral(r)}`]],
  [44, (r) => ['INFO', `${NIO}:NIOServerCnxn@1001`, `Closed socket connection for client /${client(r)}:${ephemeral(r)} which had sessionid ${session(r)}`]],
  [4, (r) => ['INFO', `${NIO}:NIOServerCnxn@1001`, `Closed socket connection for client /${client(r)}:${ephemeral(r)} (no session established for client)`]],
  [41, (r) => ['INFO', `${NIO}:ZooKeeperServer@839`, `Client attempting to establish new session at /${client(r)}:${ephemeral(r)}`]],
  [40, (r) => ['INFO', 'SessionTracker:ZooKeeperServer@325', `Expiring session ${session(r)}, timeout of ${r.pick([10000, 30000, 40000])}ms exceeded`]],
  [39, (r) => ['WARN', `${NIO}:ZooKeeperServer@793`, `Connection request from old client /${client(r)}:${ephemeral(r)}; will be dropped if server is in r-o mode`]],
  [47, (r) => ['INFO', `ProcessThread(sid:${myid(r)} cport:-1)::PrepRequestProcessor@476`, `Processed session termination for sessionid: ${session(r)}`]],
  [37, (r) => ['INFO', `${quorumPeer(r)}:FastLeaderElection@774`, `Notification time out: ${r.pick([200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000])}`]],
  [37, () => ['WARN', `${NIO}:NIOServerCnxn@349`, 'caught end of stream exception']],
  [50, (r) => ['INFO', `CommitProcessor:${myid(r)}:ZooKeeperServer@595`,
    `Established session ${session(r)} with negotiated timeout ${r.pick([10000, 30000, 40000])} for client /${client(r)}:${ephemeral(r)}`]],
  [11, (r) => ['INFO', `${quorumPeer(r)}:Environment@100`, `Server environment:${r.pick(ENVIRONMENT)}`]],
  [3, (r) => ['WARN', `${NIO}:NIOServerCnxn@354`, `Exception causing close of session ${session(r)} due to java.io.IOException: ZooKeeperServer not running`]],
  [3, (r) => ['INFO', `${NIO}:Learner@107`, `Revalidating client: ${session(r)}`]],
  [14, (r) => {
    const who = `${peer(r)}:${ephemeral(r)}`;
    return r.chance(0.5)
      ? ['WARN', `LearnerHandler-/${who}:LearnerHandler@575`, `******* GOODBYE /${who} ********`]
      : ['ERROR', `LearnerHandler-/${who}:LearnerHandler@562`, 'Unexpected exception causing shutdown while sock still open'];
  }],
  [12, (r) => ['INFO', `WorkerReceiver[myid=${myid(r)}]:FastLeaderElection@542`,
    `Notification: ${myid(r)} (n.leader), ${zx(r)} (n.zxid), 0x${r.int(1, 3)} (n.round), ${r.pick(STATES)} (n.state), ${myid(r)} (n.sid), 0x${r.int(1, 11).toString(16)} (n.peerEPoch), ${r.pick(STATES)} (my state)`]],
  [4, (r) => ['INFO', `${quorumPeer(r)}:QuorumPeer@670`, r.pick(['LOOKING', 'FOLLOWING', 'LEADING'])]],
  [2, (r) => ['INFO', `${quorumPeer(r)}:Follower@63`, `FOLLOWING - LEADER ELECTION TOOK - ${r.int(10, 9000)}`]],
  [2, (r) => ['INFO', `${quorumPeer(r)}:FileTxnSnapLog@240`, `Snapshotting: ${zx(r)} to /var/lib/zookeeper/version-2/snapshot.${r.u32().toString(16)}`]],
  [1, (r) => ['INFO', `CommitProcessor:${myid(r)}:NIOServerCnxn@180`, 'Unexpected Exception: ']],
]);

// --- combined: `203.0.113.7 - - [10/Oct/2000:13:55:36 +0000] "GET /a.gif HTTP/1.1" 200 2326 "https://…/" "Mozilla/5.0 …"`

const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)',
  'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'curl/8.5.0',
  'python-requests/2.31.0',
  'Go-http-client/1.1',
  'Prometheus/2.51.2',
];
const SITE = 'https://shop.example.com';
const EXTERNAL = ['https://www.google.com/', 'https://www.bing.com/', 'https://duckduckgo.com/', 'https://www.facebook.com/',
  'https://t.co/Xq2vB7', 'https://news.ycombinator.com/item?id=40123456', 'android-app://com.google.android.gm/'];
const CATEGORIES = ['shoes', 'jackets', 'bags', 'watches', 'outdoor', 'kids', 'sale', 'new-in'];
const ASSETS = ['/static/js/app.3f2a1c9e.js', '/static/js/vendor.77b0d4a1.js', '/static/css/main.a91c02ef.css', '/favicon.ico',
  '/static/fonts/inter-var.woff2', '/manifest.json', '/static/img/logo.svg'];
const WORDS = ['red', 'running', 'shoes', 'leather', 'bag', 'winter', 'jacket', 'waterproof', 'size+42', 'gift'];
const STATUS = [[740, 200], [70, 304], [25, 301], [20, 302], [80, 404], [10, 403], [8, 206], [12, 201], [10, 204], [10, 500], [8, 502], [7, 503]];
const STATUS_TOTAL = STATUS.reduce((sum, [w]) => sum + w, 0);

// Visitors repeat (a skewed draw from 200 000): a visitor's address and agent derive from its number.
const visitor = (r) => Math.floor(Math.exp(r.float() * Math.log(200000)));
function mix(n) {
  n = Math.imul(n ^ (n >>> 16), 0x45d9f3b);
  n = Math.imul(n ^ (n >>> 16), 0x45d9f3b);
  return (n ^ (n >>> 16)) >>> 0;
}
function address(v) {
  const h = mix(v);
  if (v % 29 === 0) return `2a02:${(h >>> 16).toString(16)}:${(h & 0xffff).toString(16)}::${(v & 0xfff).toString(16)}`;
  return `${(h >>> 24) % 223 + 1}.${(h >>> 16) & 255}.${(h >>> 8) & 255}.${(h & 255) || 1}`;
}

function request(r) {
  const n = r.float();
  if (n < 0.35) {
    const asset = r.chance(0.5) ? r.pick(ASSETS) : `/images/products/${r.int(1000, 99999)}_${r.pick(['s', 'm', 'l'])}.jpg`;
    return { path: asset, size: r.int(400, 480000), ref: 'site' };
  }
  if (n < 0.6) return { path: `/products/${r.int(1000, 99999)}`, size: r.int(18000, 95000), ref: 'any' };
  if (n < 0.72) {
    const q = r.chance(0.5) ? `?page=${r.int(1, 30)}&sort=${r.pick(['price', 'new', 'popular'])}` : '';
    return { path: `/category/${r.pick(CATEGORIES)}${q}`, size: r.int(25000, 120000), ref: 'any' };
  }
  if (n < 0.8) return { path: `/search?q=${r.pick(WORDS)}+${r.pick(WORDS)}`, size: r.int(12000, 90000), ref: 'site' };
  if (n < 0.93) {
    const api = r.pick([`/api/v1/cart`, `/api/v1/products/${r.int(1000, 99999)}/reviews?limit=20`, `/api/v1/session`,
      `/api/v2/recommendations?user=${r.int(1, 999999)}`, '/api/v1/events']);
    return { path: api, size: r.int(2, 9000), ref: 'site', api: true };
  }
  if (n < 0.97) return { path: r.pick(['/', '/robots.txt', '/sitemap.xml', '/healthz', '/about', '/contact']), size: r.int(20, 40000), ref: 'none' };
  return { path: r.pick(['/wp-login.php', '/.env', '/xmlrpc.php', '/admin/config.php', `/cgi-bin/${r.hex(6)}.cgi`]), size: r.int(150, 600), ref: 'none', probe: true };
}

function combinedLine(r, clock) {
  const v = visitor(r);
  const req = request(r);
  let method = 'GET';
  if (req.api) method = r.pick(['GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'OPTIONS']);
  else if (r.chance(0.02)) method = 'HEAD';
  let status = 200;
  if (req.probe) status = r.pick([404, 404, 403]);
  else {
    let s = r.float() * STATUS_TOTAL;
    for (const [w, code] of STATUS) {
      if ((s -= w) < 0) { status = code; break; }
    }
  }
  // Apache writes "-" for an empty body, nginx 0: both occur
  let size = String(req.size);
  if (status === 304 || status === 204 || method === 'HEAD') size = r.chance(0.5) ? '-' : '0';
  else if (status >= 400) size = String(r.int(150, 2000));
  let referer = '-';
  if (req.ref === 'site' || (req.ref === 'any' && r.chance(0.6))) {
    referer = r.chance(0.8) ? `${SITE}/products/${r.int(1000, 99999)}` : r.pick(EXTERNAL);
  }
  const user = r.chance(0.01) ? r.pick(['alice', 'bob', 'deploy', 'admin']) : '-';
  const protocol = r.chance(0.02) ? 'HTTP/1.0' : r.chance(0.25) ? 'HTTP/2.0' : 'HTTP/1.1';
  const agent = AGENTS[mix(v + 7) % AGENTS.length];
  return `${address(v)} - ${user} [${clock.clf()}] "${method} ${req.path} ${protocol}" ${status} ${size} "${referer}" "${agent}"`;
}

export const SHAPES = {
  hdfs: {
    line(r, clock) {
      clock.tick(r);
      return `${clock.hdfs()} ${hdfsPid(r)} ${HDFS_EVENTS(r)}`;
    },
    pad(clock, n) {
      const head = `${clock.hdfs()} 1 INFO dfs.Bench: end of benchmark data pad=`;
      return head + 'x'.repeat(n - head.length);
    },
  },
  zookeeper: {
    line(r, clock) {
      clock.tick(r);
      const [level, where, msg] = ZOOKEEPER_EVENTS(r);
      return `${clock.log4j()} - ${level.padEnd(5)} [${where}] - ${msg}`;
    },
    pad(clock, n) {
      const head = `${clock.log4j()} - INFO  [main:Bench@1] - end of benchmark data pad=`;
      return head + 'x'.repeat(n - head.length);
    },
  },
  combined: {
    line(r, clock) {
      clock.tick(r);
      return combinedLine(r, clock);
    },
    pad(clock, n) {
      const head = `127.0.0.1 - - [${clock.clf()}] "GET /end-of-benchmark-data?pad=`;
      const tail = ' HTTP/1.1" 200 0 "-" "logwire-bench"';
      return head + 'x'.repeat(n - head.length - tail.length) + tail;
    },
  },
};
