; Inno Setup 6.3+ script: a per-user installer for the Windows bundle (no administrator rights needed).
;
;   On Windows, in a clean virtual environment at the repository root:
;     pip install ".[bundle]"
;     pyinstaller --noconfirm --clean build.spec          (dist\login-feed\, with login-feed-window.exe)
;     iscc /DAppVersion=0.1.0 resources\packaging\windows\login-feed.iss
;   makes dist\login-feed-0.1.0-setup.exe. Not built in this project's CI (Linux only): see README.
;
; It installs into %LOCALAPPDATA%\Programs\Login Feed and adds a Start-menu shortcut to the windowed
; executable (login-feed-window.exe: no console window next to the GUI). login-feed.exe, the console program,
; stays for `tail`, `export`, `login` and `--self-test`. The uninstaller removes what was installed; the
; configuration and history in the user's profile (%LOCALAPPDATA%\login-feed) are the user's and stay.

#ifndef AppVersion
  #error Pass the version from pyproject.toml: iscc /DAppVersion=x.y.z login-feed.iss
#endif

[Setup]
AppId={{CCFAC6EB-5A4F-4457-92DB-405845B21B0D}
AppName=Login Feed
AppVersion={#AppVersion}
AppVerName=Login Feed {#AppVersion}
AppPublisher=Login Feed
; Per user: {autopf} is %LOCALAPPDATA%\Programs and {autoprograms} the user's Start menu.
PrivilegesRequired=lowest
DefaultDirName={autopf}\Login Feed
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
SourceDir=..\..\..
OutputDir=dist
OutputBaseFilename=login-feed-{#AppVersion}-setup
SetupIconFile=resources\icons\login-feed.ico
UninstallDisplayIcon={app}\login-feed-window.exe
UninstallDisplayName=Login Feed
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "dist\login-feed\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade replaces the bundle as a whole: no module of an older version may linger next to the new one.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\Login Feed"; Filename: "{app}\login-feed-window.exe"; WorkingDir: "{app}"
Name: "{autodesktop}\Login Feed"; Filename: "{app}\login-feed-window.exe"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\login-feed-window.exe"; Description: "{cm:LaunchProgram,Login Feed}"; Flags: nowait postinstall skipifsilent
